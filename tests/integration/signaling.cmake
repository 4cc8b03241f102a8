# huijiand's control plane against hostile input (needs python3-websocket).
add_test(NAME signaling.bad_input
  COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/signaling_bad_input.py)
set_tests_properties(signaling.bad_input PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 120)
