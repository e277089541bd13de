# Ferry: top-level build.
#
#   make              build the plugin, the shared library and both daemons
#   make install      install the extension (PGXS) and the daemons (PREFIX, DESTDIR)
#   make test         install what the tests need, then run every test suite
#   make demo         install what the demo needs, build, run the pipeline end to end
#   make bench        benchmarks (not tests)
#   make asan         build the daemons with AddressSanitizer/UBSan (common/asan, relay/asan, sink/asan)

PG_CONFIG ?= pg_config
PREFIX    ?= /usr/local
DESTDIR   ?=
SAN       ?=

export PG_CONFIG PREFIX DESTDIR SAN

SUBDIRS = common relay sink

.PHONY: all plugin daemons install install-plugin install-daemons test demo bench deps asan clean

all: plugin daemons

plugin:
	$(MAKE) -C plugin PG_CONFIG=$(PG_CONFIG)

daemons:
	@for d in $(SUBDIRS); do \
		if [ -f $$d/Makefile ]; then $(MAKE) -C $$d || exit 1; fi; \
	done

install: install-plugin install-daemons

install-plugin: plugin
	$(MAKE) -C plugin PG_CONFIG=$(PG_CONFIG) install

install-daemons: daemons
	@for d in relay sink; do \
		if [ -f $$d/Makefile ]; then $(MAKE) -C $$d install || exit 1; fi; \
	done
	@if [ -f tests/tools/install-extras.sh ]; then sh tests/tools/install-extras.sh; fi

deps:
	bash tests/tools/deps.sh

test: deps
	bash tests/run.sh

demo:
	bash tests/tools/deps.sh --demo
	$(MAKE) all
	bash tests/tools/demo.sh $(DEMO_ARGS)

bench: deps
	bash tests/bench/run.sh

asan:
	$(MAKE) -C common SAN=1 BUILD=asan
	$(MAKE) -C relay SAN=1 BUILD=asan
	$(MAKE) -C sink SAN=1 BUILD=asan

clean:
	-$(MAKE) -C plugin PG_CONFIG=$(PG_CONFIG) clean
	@for d in $(SUBDIRS); do \
		if [ -f $$d/Makefile ]; then $(MAKE) -C $$d clean; fi; \
	done
