# Native <-> native meeting through huijiand and the relay, with a capture of
# the loopback wire (tests/integration/meeting_native.py).
add_test(NAME meeting.native_1080p
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/meeting_native.py)
set_tests_properties(meeting.native_1080p PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 400
                     RESOURCE_LOCK media)
# A burst of garbage UDP at the relay's media ports during a running meeting
# (tests/integration/meeting_garbage_udp.py).
add_test(NAME meeting.garbage_udp_burst
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/meeting_garbage_udp.py)
set_tests_properties(meeting.garbage_udp_burst PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 300
                     RESOURCE_LOCK media)
