# Native <-> native meeting through huijiand and the relay, with a capture of
# the loopback wire (tests/integration/meeting_native.py).
add_test(NAME meeting.native_1080p
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/meeting_native.py)
set_tests_properties(meeting.native_1080p PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 400
                     RESOURCE_LOCK media)
# Garbage UDP at the relay's media ports and hostile signaling during a
# running 1080p meeting (tests/integration/meeting_bad_input.py).
add_test(NAME meeting.bad_input_during_meeting
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/meeting_bad_input.py)
set_tests_properties(meeting.bad_input_during_meeting PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 300
                     RESOURCE_LOCK media)
