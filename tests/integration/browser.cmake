# Browser lawyer terminal (Chromium, tests/browser/lawyer_meeting.mjs) <->
# native detainee terminal, through huijiand and the relay
# (tests/integration/browser_meeting.sh).
add_test(NAME browser.lawyer_meeting_1080p
         COMMAND ${HJ_RUN} bash ${CMAKE_CURRENT_SOURCE_DIR}/browser_meeting.sh)
set_tests_properties(browser.lawyer_meeting_1080p PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 400
                     RESOURCE_LOCK media)
