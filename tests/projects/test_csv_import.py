"""CSV bulk entry: documented columns, per-row errors, dry run, all or nothing."""

import io

import pytest

from staffing.projects.models import Site, WorkItem

SITES = """name,address,region,latitude,longitude,ready_on,access_weekdays,blackout_dates
Hamburg HQ,Ballindamm 1,North,53.5511,9.9937,2027-03-01,1-5,2027-04-30
Kiel Branch,Holstenstr. 2,North,54.3233,10.1228,,1;2;3;4,
München,Marienplatz 8,South,48.1374,11.5755,2027-03-15,,2027-05-27;2027-05-28
"""

ITEMS = ",".join(("ref", "site", "kind", "label", "skill", "min_proficiency", "effort_hours",
                  "quantity", "crew_size", "earliest_on", "due_on", "depends_on")) + """
HH-SRV-1,Hamburg HQ,server,File server,winserver,3,16,1,2,,2027-03-31,
HH-SQL-1,Hamburg HQ,server,SQL cluster,sqlserver,4,24,1,2,,2027-04-15,HH-SRV-1
HH-DT-1,Hamburg HQ,desktop_batch,Desktops wave 1,desktop,2,1.5,20,1,,2027-05-31,HH-SRV-1;HH-SQL-1
KI-DT-1,Kiel Branch,desktop_batch,Desktops,desktop,2,1.5,12,1,2027-04-01,2027-05-31,
"""


@pytest.fixture
def setup(db, create_firm, create_user, create_project, create_skill, auth):
    lead = create_firm(name="Lead IT")
    project = create_project(lead_firm=lead)
    for code in ("winserver", "sqlserver", "desktop"):
        create_skill(project, code=code)
    headers = auth(create_user(firm=lead, role="coordinator"))
    return project, headers


def _upload(client, headers, project, what, text, dry_run=False):
    url = f"/api/v1/projects/{project.id}/imports/{what}" + ("?dry_run=true" if dry_run else "")
    data = {"file": (io.BytesIO(text.encode()), f"{what}.csv")}
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


def _count(db, model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_sites_and_items_import(client, db, setup):
    project, headers = setup
    response = _upload(client, headers, project, "sites", SITES)
    assert response.status_code == 200, response.json
    assert response.json == {"dry_run": False, "rows": 3, "created": 3, "updated": 0}
    kiel = db.session.scalar(db.select(Site).filter_by(name="Kiel Branch"))
    assert kiel.access_weekdays == [1, 2, 3, 4] and kiel.ready_on is None
    response = _upload(client, headers, project, "work-items", ITEMS)
    assert response.status_code == 200, response.json
    desktops = db.session.scalar(db.select(WorkItem).filter_by(ref="HH-DT-1"))
    assert sorted(dep.ref for dep in desktops.depends_on) == ["HH-SQL-1", "HH-SRV-1"]
    assert desktops.total_hours == 30.0


def test_reupload_updates_by_key(client, db, setup):
    project, headers = setup
    _upload(client, headers, project, "sites", SITES)
    changed = SITES.replace("Ballindamm 1", "Ballindamm 40")
    assert _upload(client, headers, project, "sites", changed).json["updated"] == 3
    assert db.session.scalar(db.select(Site.address).filter_by(name="Hamburg HQ")) \
        == "Ballindamm 40"


def test_one_bad_row_among_many_imports_nothing_and_names_row_and_field(client, db, setup):
    project, headers = setup
    rows = [f"Site {n},Street {n},East,52.{n},13.{n},,," for n in range(40)]
    rows[23] = "Site 23,Street 23,East,95.0,13.0,,,"  # latitude out of range, spreadsheet line 25
    text = "name,address,region,latitude,longitude,ready_on,access_weekdays,blackout_dates\n" \
        + "\n".join(rows) + "\n"
    response = _upload(client, headers, project, "sites", text)
    assert response.status_code == 422
    assert response.json["errors"] == {"row 25": {"latitude": [
        "Must be greater than or equal to -90 and less than or equal to 90."]}}
    assert "row 25" in response.json["message"]
    assert _count(db, Site) == 0


def test_item_rows_report_every_bad_row(client, db, setup):
    project, headers = setup
    _upload(client, headers, project, "sites", SITES)
    bad = ITEMS.replace("winserver,3,16", "winserver,7,16") \
        .replace("Kiel Branch,desktop_batch", "Lübeck,desktop_batch") \
        .replace("HH-SRV-1;HH-SQL-1", "HH-SRV-9")
    errors = _upload(client, headers, project, "work-items", bad).json["errors"]
    # row 3 names the item of bad row 2, so it fails as well
    assert set(errors) == {"row 2", "row 3", "row 4", "row 5"}
    assert "min_proficiency" in errors["row 2"] and "depends_on" in errors["row 3"]
    assert "depends_on" in errors["row 4"] and "site" in errors["row 5"]
    assert _count(db, WorkItem) == 0


def test_dry_run_validates_and_changes_nothing(client, db, setup):
    project, headers = setup
    response = _upload(client, headers, project, "sites", SITES, dry_run=True)
    assert response.json == {"dry_run": True, "rows": 3, "created": 3, "updated": 0}
    assert _count(db, Site) == 0


def test_header_problems_are_422(client, setup):
    project, headers = setup
    response = _upload(client, headers, project, "sites", "name,lat,longitude\nX,1,2\n")
    assert response.status_code == 422
    assert response.json["errors"]["header"] == ["unknown column 'lat'",
                                                 "missing column 'latitude'"]
    assert _upload(client, headers, project, "sites", "").status_code == 422


def test_semicolon_separated_excel_export_and_bom(client, db, setup):
    project, headers = setup
    text = "\ufeffname;latitude;longitude;region\nDresden;51.05;13.74;East\n"
    assert _upload(client, headers, project, "sites", text).status_code == 200
    assert _count(db, Site) == 1


def test_extra_cells_and_missing_file(client, setup):
    project, headers = setup
    response = _upload(client, headers, project, "sites", "name,latitude,longitude\nA,1,2,3\n")
    assert response.json["errors"] == {"row 2": {"row": ["more cells than columns"]}}
    no_file = client.post(f"/api/v1/projects/{project.id}/imports/sites", headers=headers,
                          data={}, content_type="multipart/form-data")
    assert no_file.status_code == 422 and "file" in no_file.json["errors"]


def test_partners_cannot_import(client, setup, create_firm, create_membership, create_user,
                                auth):
    project, _ = setup
    partner = create_firm(name="Partner")
    create_membership(project, partner)
    headers = auth(create_user(firm=partner, role="admin"))
    assert _upload(client, headers, project, "sites", SITES).status_code == 403
