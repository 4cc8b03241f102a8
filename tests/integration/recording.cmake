# The picture-only recorder and the archive, with real processes
# (tests/integration/archive_recording.py).
add_test(NAME archive.recording_meeting
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/archive_recording.py meeting)
add_test(NAME archive.recording_crash_sigkill
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/archive_recording.py crash)
add_test(NAME archive.recording_gap_frozen_terminal
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/archive_recording.py gap)
# A private mount namespace too: the test mounts a small tmpfs as the archive.
add_test(NAME archive.recording_disk_full
         COMMAND ${HJ_RUN} unshare -m --propagation private python3 ${CMAKE_CURRENT_SOURCE_DIR}/archive_recording.py disk_full)
set_tests_properties(archive.recording_meeting archive.recording_crash_sigkill archive.recording_gap_frozen_terminal
                     archive.recording_disk_full
                     PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 400 RESOURCE_LOCK media)
