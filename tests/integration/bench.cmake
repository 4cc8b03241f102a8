# The relay benchmark's smoke run (bench/relay.sh --quick): huijian-loadgen
# drives 2 meetings for 5 s through Janus (videocall) and through huijiand, and
# the test passes only if both adapters set up, media flows both ways and
# nothing is lost or misrouted on loopback. Behaviour only: no speed checked.
# relay.sh puts itself in a network namespace of its own (unshare -n).
add_test(NAME bench.relay_smoke COMMAND ${PROJECT_SOURCE_DIR}/bench/relay.sh --quick)
set_tests_properties(bench.relay_smoke PROPERTIES ENVIRONMENT "HUIJIAN_BUILD_DIR=${PROJECT_BINARY_DIR}"
                     TIMEOUT 300 RESOURCE_LOCK media)
# bench/export.sh --quick: records a 10 s meeting and exports its composite;
# fails when the export does not play, is narrower than 1920 or holds audio.
add_test(NAME bench.export_smoke COMMAND ${PROJECT_SOURCE_DIR}/bench/export.sh --quick)
set_tests_properties(bench.export_smoke PROPERTIES ENVIRONMENT "HUIJIAN_BUILD_DIR=${PROJECT_BINARY_DIR}"
                     TIMEOUT 400 RESOURCE_LOCK media LABELS bench)
# bench/officer.sh with 2 meetings and 3 s windows: an officer console in
# Chromium watches every meeting; fails unless every picture decodes, the
# relay sends the officer pictures and no other RTP. Behaviour only.
add_test(NAME bench.officer_smoke COMMAND ${PROJECT_SOURCE_DIR}/bench/officer.sh --meetings 2 --window 3)
set_tests_properties(bench.officer_smoke PROPERTIES ENVIRONMENT "HUIJIAN_BUILD_DIR=${PROJECT_BINARY_DIR}"
                     TIMEOUT 300 RESOURCE_LOCK media LABELS bench)
