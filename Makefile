# pubdata -- PGXS build.  The version comes from pubdata.control.

EXTENSION   = pubdata
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" pubdata.control)

MODULE_big  = pubdata
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
SHLIB_LINK  = -ljson-c -lcrypto

# The install script is built from its parts in src/sql/NN_*.sql, in order;
# upgrade scripts pubdata--A--B.sql live beside them and are shipped as is.
# Upgrade scripts pubdata--A--B.sql are built the same way from the parts in
# src/sql/update/A--B/NN_*.sql; released install scripts (src/sql/pubdata--X.sql)
# are frozen copies, shipped as they are.
SQL_PARTS   = $(sort $(wildcard src/sql/[0-9][0-9]_*.sql))
UPDATES     = $(notdir $(wildcard src/sql/update/*--*))
UPDATE_SQL  = $(patsubst %,pubdata--%.sql,$(UPDATES))
DATA_built  = pubdata--$(EXTVERSION).sql $(UPDATE_SQL)
DATA        = $(wildcard src/sql/pubdata--*.sql)

# pg_regress: one file per feature, run in name order (sql/NN_name.sql).
REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=pgcrypto

PG_CONFIG  ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS       := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

ifeq ($(PGXS),)
# No server headers yet (fresh machine): the scripts install them first.
all install installcheck:
	@echo "pubdata: PostgreSQL 15 server development files not found; run 'make test' or 'make demo' (they install them), or apt-get install postgresql-server-dev-15"; exit 1
else
include $(PGXS)
endif

override CPPFLAGS := -I$(srcdir)/src $(CPPFLAGS)

# every object is rebuilt when a header of the module changes
$(OBJS): $(wildcard src/*.h)

pubdata--$(EXTVERSION).sql: $(SQL_PARTS) pubdata.control
	cat $(SQL_PARTS) > $@

.SECONDEXPANSION:
$(UPDATE_SQL): pubdata--%.sql: $$(sort $$(wildcard src/sql/update/%/[0-9][0-9]_*.sql))
	cat $(filter %.sql,$^) > $@

.PHONY: test demo demo-stop bench
test:
	@bash test/run.sh test
demo:
	@bash test/run.sh demo
demo-stop:
	@bash test/run.sh demo-stop
bench:
	@bash test/run.sh bench
