# huijian-terminal without a server: the sending pipeline prerolls and produces
# frames, from the live test source and from a pre-encoded clip.
add_test(NAME terminal_self_test_live
  COMMAND ${HJ_RUN} $<TARGET_FILE:huijian-terminal> --self-test 3 --headless --width 640 --height 360)
set_tests_properties(terminal_self_test_live PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 60)

add_test(NAME terminal_self_test_clip
  COMMAND ${HJ_RUN} ${CMAKE_CURRENT_LIST_DIR}/terminal-self-test-clip $<TARGET_FILE:huijian-terminal>)
set_tests_properties(terminal_self_test_clip PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 180)
