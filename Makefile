# pubdata -- PGXS build.  The version comes from pubdata.control.

EXTENSION   = pubdata
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" pubdata.control)

MODULE_big  = pubdata
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
SHLIB_LINK  = -ljson-c -lcrypto -lpq
# libpq: a standby's audit shipper connects to its primary (src/audit_ship.c)
PG_CPPFLAGS = -I$(libpq_srcdir)

# The SQL is kept in two kinds of parts (the way TimescaleDB splits its
# pre-install and re-runnable files):
#   src/sql/once/NN_*.sql  run once, at CREATE EXTENSION: types, tables,
#                          sequences, indexes, seed rows, pg_dump registration;
#   src/sql/NN_*.sql       re-runnable: CREATE OR REPLACE FUNCTION / VIEW /
#                          TRIGGER, event triggers and policies dropped if they
#                          exist and made again, comments, privileges.
# The install script pubdata--V.sql is both, by number (once/NN before NN).
# An upgrade script pubdata--A--B.sql is the parts src/sql/update/A--B/NN_*.sql
# numbered below 90 (what changes in run-once objects: ALTER TABLE, new tables,
# DROP of what 0.2 no longer has or defines with another signature), then
# every re-runnable part, then the update parts numbered 90 and up (what needs
# the new functions: data rebuilt with them).  So a changed function is edited
# in one place and reaches fresh installs and upgrades alike.  Released
# install scripts (src/sql/pubdata--X.sql) are frozen copies, shipped as they
# are; when B is released, pubdata--A--B.sql is frozen beside them the same way.
SQL_ONCE    = $(sort $(wildcard src/sql/once/[0-9][0-9]_*.sql))
SQL_RERUN   = $(sort $(wildcard src/sql/[0-9][0-9]_*.sql))
part_no     = $(firstword $(subst _, ,$(notdir $(1))))
SQL_PARTS   = $(foreach n,$(sort $(foreach f,$(SQL_ONCE) $(SQL_RERUN),$(call part_no,$(f)))),\
				$(filter src/sql/once/$(n)_%,$(SQL_ONCE)) $(filter src/sql/$(n)_%,$(SQL_RERUN)))
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
$(UPDATE_SQL): pubdata--%.sql: $$(sort $$(wildcard src/sql/update/%/[0-9][0-9]_*.sql)) $(SQL_RERUN)
	cat $(filter-out src/sql/update/$*/9%,$(filter src/sql/update/%,$^)) $(SQL_RERUN) \
		$(filter src/sql/update/$*/9%,$^) > $@

.PHONY: test demo demo-stop bench
test:
	@bash test/run.sh test
demo:
	@bash test/run.sh demo
demo-stop:
	@bash test/run.sh demo-stop
bench:
	@bash test/run.sh bench
