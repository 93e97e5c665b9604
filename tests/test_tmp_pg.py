from assistant import schema
from tests.dbs import migrated


def test_migrate(database_url):
    e = migrated(database_url, "core", "knowledge")
    assert schema.state(e, "core").up_to_date
    assert schema.state(e, "knowledge").up_to_date
    schema.upgrade(e, "core")
