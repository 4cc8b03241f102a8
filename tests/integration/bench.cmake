# The relay benchmark's smoke run (bench/relay.sh --quick): huijian-loadgen
# drives 2 meetings for 5 s through Janus (videocall) and through huijiand, and
# the test passes only if both adapters set up, media flows both ways and
# nothing is lost or misrouted on loopback. Behaviour only: no speed checked.
# relay.sh puts itself in a network namespace of its own (unshare -n).
add_test(NAME bench.relay_smoke COMMAND ${PROJECT_SOURCE_DIR}/bench/relay.sh --quick)
set_tests_properties(bench.relay_smoke PROPERTIES ENVIRONMENT "HUIJIAN_BUILD_DIR=${PROJECT_BINARY_DIR}"
                     TIMEOUT 300 RESOURCE_LOCK media)
