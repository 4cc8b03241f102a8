# Supervision: officer login, call time, notices, interjections, termination,
# and who may do what (tests/integration/supervision_*.py, officer.py).
# The native-meeting tests take the media lock like the other 1080p tests.
add_test(NAME supervision.time_change_native
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/supervision_time.py)
set_tests_properties(supervision.time_change_native PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 300
                     RESOURCE_LOCK media)
add_test(NAME supervision.terminate_violation_native
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/supervision_terminate.py)
set_tests_properties(supervision.terminate_violation_native PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 300
                     RESOURCE_LOCK media)
add_test(NAME supervision.notice_interjection_native
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/supervision_notice.py)
set_tests_properties(supervision.notice_interjection_native PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 300
                     RESOURCE_LOCK media)
# No media: WSS clients and REST only; waits a minute for a login to expire.
add_test(NAME supervision.authorization
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/supervision_auth.py)
set_tests_properties(supervision.authorization PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 200)
# The officer console and the browser lawyer page in Chromium, with a native
# detainee terminal (tests/browser/officer_console.mjs).
add_test(NAME supervision.browser_console
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/supervision_browser.py)
set_tests_properties(supervision.browser_console PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 240
                     RESOURCE_LOCK media)
# The officer console's media in Chromium: both pictures of a native <-> native
# meeting, no sound for the officer, push-to-talk voice to both terminals, and
# the time from the terminate click to the end of media
# (tests/browser/officer_media.mjs).
add_test(NAME supervision.officer_media_native
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/supervision_officer_media.py)
set_tests_properties(supervision.officer_media_native PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 300
                     RESOURCE_LOCK media)
