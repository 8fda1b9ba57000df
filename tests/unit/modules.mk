# The modules each unit test links (tests/unit/test_NAME.c -> MODULES_test_NAME), and with
# them nothing else: a test of the decoders cannot reach the pipeline, so the build
# enforces the module boundaries. A module is userspace/LAYER/NAME.c; tests/decode_views
# is tests/unit/decode_views.c. Each list is the test's own needs and what those need in
# turn (the link fails if one is missing); keep it to that.

# What a test of the whole pipeline links: every module but the subcommands.
PIPELINE_MODULES := assoc/cmdasm assoc/httpasm assoc/integrity assoc/record assoc/table \
	config/config config/keys config/webcfg core/counters core/pipeline decode/assoc_decode \
	decode/assoc_userinfo decode/cmdkeep decode/decode_json decode/dicomweb decode/dimse \
	decode/fingerprint decode/pdu decode/uid_lookup decode/uids detect/policy detect/rules \
	kern/attach kern/flows kern/hooks kern/kcount kern/loader kern/netdev kern/pin kern/takeover \
	kern/tcorder kern/tcwatch lib/clock lib/log lib/loop lib/lru lib/names lib/netaddr lib/pcapio \
	lib/perm lib/safefile lib/textesc output/assoc_metrics output/attach_metrics output/eve \
	output/evidence output/feed output/lines output/metrics output/stats

MODULES_test_assoc_decode := decode/assoc_decode decode/assoc_userinfo decode/decode_json \
	decode/cmdkeep decode/dimse decode/fingerprint decode/pdu decode/uid_lookup decode/uids lib/names \
	tests/decode_views
MODULES_test_assoc_hostile := decode/assoc_decode decode/assoc_userinfo decode/pdu
MODULES_test_cli := config/cli config/config config/keys config/options config/yaml_config \
	lib/log lib/netaddr
MODULES_test_config := config/config config/keys lib/log lib/netaddr
MODULES_test_counters := $(PIPELINE_MODULES)
MODULES_test_daemon_parts := kern/pin lib/perm kern/tcorder lib/log lib/loop lib/names
MODULES_test_dicomweb := decode/dicomweb
MODULES_test_dimse := decode/assoc_decode decode/assoc_userinfo decode/decode_json \
	decode/cmdkeep decode/dimse decode/fingerprint decode/pdu decode/uid_lookup decode/uids lib/names \
	tests/decode_views
MODULES_test_eve := assoc/cmdasm assoc/integrity assoc/record assoc/table \
	decode/assoc_decode decode/assoc_userinfo decode/decode_json decode/dicomweb decode/cmdkeep decode/dimse \
	decode/fingerprint decode/pdu decode/uid_lookup decode/uids lib/clock lib/lru lib/names \
	lib/netaddr output/eve output/lines lib/textesc
MODULES_test_evidence := decode/cmdkeep lib/log lib/lru lib/pcapio output/evidence lib/safefile
MODULES_test_feed := assoc/cmdasm assoc/integrity assoc/record assoc/table config/config \
	config/keys decode/assoc_decode decode/assoc_userinfo decode/decode_json decode/dicomweb \
	decode/cmdkeep decode/dimse decode/fingerprint decode/pdu decode/uid_lookup decode/uids lib/clock lib/log \
	lib/lru lib/names lib/netaddr output/eve output/feed output/lines lib/textesc lib/safefile
MODULES_test_fingerprint := decode/assoc_decode decode/assoc_userinfo decode/decode_json \
	decode/fingerprint decode/pdu
MODULES_test_fuzz_regress := decode/assoc_decode decode/assoc_userinfo decode/decode_json \
	decode/cmdkeep decode/dimse decode/fingerprint decode/pdu decode/uid_lookup decode/uids lib/log lib/lru \
	lib/names lib/pcapio output/evidence tests/decode_views lib/safefile
MODULES_test_integrity := $(PIPELINE_MODULES)
MODULES_test_kcompat := config/config config/keys kern/attach kern/hooks kern/loadcheck kern/loader kern/takeover \
	kern/netdev kern/pin lib/perm kern/tcorder kern/tcwatch lib/log lib/names lib/netaddr
MODULES_test_keydoc := config/config config/keydoc config/keys config/options \
	config/yaml_config lib/log lib/netaddr
MODULES_test_lru := lib/lru
MODULES_test_metrics := $(PIPELINE_MODULES)
MODULES_test_names := assoc/cmdasm assoc/record config/keys decode/assoc_decode \
	decode/assoc_userinfo decode/decode_json decode/dicomweb decode/cmdkeep decode/dimse decode/fingerprint \
	decode/pdu decode/uid_lookup decode/uids kern/pin kern/tcorder lib/clock lib/log lib/lru lib/perm \
	lib/names lib/netaddr output/eve output/feed output/lines lib/textesc lib/safefile
MODULES_test_netaddr := lib/netaddr
MODULES_test_pcapio := lib/pcapio lib/safefile
MODULES_test_pdu := decode/assoc_decode decode/assoc_userinfo decode/decode_json \
	decode/cmdkeep decode/dimse decode/fingerprint decode/pdu decode/uid_lookup decode/uids lib/names \
	tests/decode_views
MODULES_test_pipeline := $(PIPELINE_MODULES)
MODULES_test_reassembly := assoc/cmdasm assoc/httpasm assoc/integrity assoc/record \
	assoc/table decode/assoc_decode decode/assoc_userinfo decode/decode_json decode/dicomweb \
	decode/cmdkeep decode/dimse decode/fingerprint decode/pdu decode/uid_lookup decode/uids lib/lru lib/names
MODULES_test_rules := assoc/cmdasm assoc/integrity assoc/record assoc/table config/config \
	config/keys config/yaml_config decode/assoc_decode decode/assoc_userinfo decode/decode_json \
	decode/dicomweb decode/cmdkeep decode/dimse decode/fingerprint decode/pdu decode/uid_lookup decode/uids \
	detect/policy detect/rules lib/clock lib/log lib/lru lib/names lib/netaddr output/eve \
	lib/textesc output/lines
MODULES_test_table := assoc/cmdasm assoc/integrity assoc/record assoc/table \
	decode/assoc_decode decode/assoc_userinfo decode/decode_json decode/cmdkeep decode/dimse \
	decode/fingerprint decode/pdu decode/uid_lookup decode/uids lib/lru lib/names
MODULES_test_tcorder := kern/tcorder
MODULES_test_uids := decode/pdu decode/uid_lookup decode/uids
MODULES_test_yaml_config := config/cli config/config config/keys config/options \
	config/yaml_config lib/log lib/netaddr
MODULES_test_textesc := $(PIPELINE_MODULES) cmd/status
MODULES_test_webcfg := config/webcfg
MODULES_test_status_server := $(PIPELINE_MODULES) cmd/status
MODULES_test_safefile := lib/safefile
