# The archive over REST: who may search, read, download and export archives,
# and the audit of every access (tests/integration/archive_rest.py). No media
# relay traffic; a small real archive folder made with gst-launch-1.0.
add_test(NAME archive.rest_access
         COMMAND ${HJ_RUN} python3 ${CMAKE_CURRENT_SOURCE_DIR}/archive_rest.py)
set_tests_properties(archive.rest_access PROPERTIES ENVIRONMENT "${HJ_ENV}" TIMEOUT 300)
