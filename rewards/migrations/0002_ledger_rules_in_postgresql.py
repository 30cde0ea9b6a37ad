"""The ledger's rules, enforced by PostgreSQL too (the services enforce them everywhere):

- every transaction's entries sum to zero — checked at commit by a deferred constraint
  trigger, so a transaction may be written entry by entry (django-hordak does the same);
- entries and transactions are append-only: UPDATE and DELETE are refused.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION rewards_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE total numeric;
BEGIN
    SELECT COALESCE(SUM(amount), 0) INTO total
      FROM rewards_entry WHERE transaction_id = NEW.transaction_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (sum %)', NEW.transaction_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER rewards_entry_balanced
    AFTER INSERT ON rewards_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION rewards_check_balanced();

CREATE OR REPLACE FUNCTION rewards_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER rewards_entry_append_only BEFORE UPDATE OR DELETE ON rewards_entry
    FOR EACH ROW EXECUTE FUNCTION rewards_append_only();
CREATE TRIGGER rewards_transaction_append_only BEFORE UPDATE OR DELETE ON rewards_transaction
    FOR EACH ROW EXECUTE FUNCTION rewards_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS rewards_transaction_append_only ON rewards_transaction;
DROP TRIGGER IF EXISTS rewards_entry_append_only ON rewards_entry;
DROP FUNCTION IF EXISTS rewards_append_only();
DROP TRIGGER IF EXISTS rewards_entry_balanced ON rewards_entry;
DROP FUNCTION IF EXISTS rewards_check_balanced();
"""


def _run(schema_editor, sql):
    # A plain cursor: the function bodies contain % signs meant for PL/pgSQL.
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


def create(apps, schema_editor):
    _run(schema_editor, CREATE)


def drop(apps, schema_editor):
    _run(schema_editor, DROP)


class Migration(migrations.Migration):
    dependencies = [("rewards", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
