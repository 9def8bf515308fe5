"""CSV bulk entry: documented columns, per-row errors, dry run, all or nothing."""

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
    # the body as a browser sends it (the test client's own encoder leaves the temporary file
    # it makes for a large body open)
    boundary = "csv-upload-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{what}.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode() \
        + text.encode() + f"\r\n--{boundary}--\r\n".encode()
    return client.post(url, data=body, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


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


# --- the rules of the API, applied row by row in file order --------------------------------


def _items(rows: list[str]) -> str:
    return "ref,site,kind,skill,effort_hours,earliest_on,due_on,depends_on,label\n" \
        + "".join(f"{row},{row.split(',')[0]}\n" for row in rows)


def _deps(db, ref):
    item = db.session.scalar(db.select(WorkItem).filter_by(ref=ref))
    return sorted(dep.ref for dep in item.depends_on)


def test_work_item_row_without_label_imports_with_an_empty_label(client, db, setup):
    # the label column is optional: a row without one was a 409 (NOT NULL), dry run or not
    project, headers = setup
    _upload(client, headers, project, "sites", SITES)
    one_row = "ref,site,kind,skill,effort_hours\nHH-NW-9,Hamburg HQ,network,desktop,2\n"
    dry = _upload(client, headers, project, "work-items", one_row, dry_run=True)
    assert dry.status_code == 200, dry.json
    assert dry.json == {"dry_run": True, "rows": 1, "created": 1, "updated": 0}
    assert _count(db, WorkItem) == 0
    assert _upload(client, headers, project, "work-items", one_row).status_code == 200
    assert db.session.scalar(db.select(WorkItem.label).filter_by(ref="HH-NW-9")) == ""


def test_a_key_repeated_in_one_file_creates_once_then_updates(client, db, setup):
    project, headers = setup
    text = "name,address,latitude,longitude,region\nA,Street 1,50,8,West\nB,,51,9,\n" \
        "A,,50.5,8,\n"
    assert _upload(client, headers, project, "sites", text).json == {
        "dry_run": False, "rows": 3, "created": 2, "updated": 1}
    site = db.session.scalar(db.select(Site).filter_by(name="A"))
    assert (site.address, site.region, site.latitude) == ("Street 1", "West", 50.5)
    items = _items(["X,A,server,desktop,4,,,", "Y,A,server,desktop,4,,,X",
                    "X,B,network,desktop,2,,,"])
    assert _upload(client, headers, project, "work-items", items).json["updated"] == 1
    x = db.session.scalar(db.select(WorkItem).filter_by(ref="X"))
    assert (x.kind, x.site.name, x.effort_hours) == ("network", "B", 2.0)
    assert _deps(db, "Y") == ["X"]


def test_update_rows_keep_stored_values_and_replace_dependency_lists(client, db, setup):
    project, headers = setup
    _upload(client, headers, project, "sites", SITES)
    _upload(client, headers, project, "work-items", ITEMS)
    update = "ref,site,kind,skill,effort_hours,depends_on\n" \
        "HH-DT-1,Hamburg HQ,desktop_batch,desktop,2,HH-SQL-1\n" \
        "HH-SQL-1,Hamburg HQ,server,sqlserver,30,\n"
    assert _upload(client, headers, project, "work-items", update).json["updated"] == 2
    desktops = db.session.scalar(db.select(WorkItem).filter_by(ref="HH-DT-1"))
    db.session.refresh(desktops)
    assert (desktops.effort_hours, desktops.quantity, desktops.label) == (2.0, 20,
                                                                          "Desktops wave 1")
    assert _deps(db, "HH-DT-1") == ["HH-SQL-1"]
    # the cell lists every dependency: left empty on an update, it clears them
    assert _deps(db, "HH-SQL-1") == []


def test_dependency_rules_on_updates_name_the_depends_on_column(client, db, setup):
    project, headers = setup
    _upload(client, headers, project, "sites", SITES)
    _upload(client, headers, project, "work-items", ITEMS)  # HH-DT-1 -> HH-SQL-1 -> HH-SRV-1
    bad = _items(["HH-SRV-1,Hamburg HQ,server,winserver,16,,,HH-DT-1",  # closes a cycle
                  "HH-SQL-1,Hamburg HQ,server,sqlserver,24,,,HH-SQL-1",  # itself
                  "KI-DT-1,Kiel Branch,desktop_batch,desktop,1.5,,2027-03-15,",  # stored 04-01
                  "NEW-1,Kiel Branch,network,desktop,2,,,NEW-1",  # itself, not yet known
                  "NEW-2,Kiel Branch,network,desktop,2,,,NEW-3",  # a later row's ref
                  "NEW-3,Kiel Branch,network,desktop,2,,,"])
    response = _upload(client, headers, project, "work-items", bad)
    assert response.status_code == 422
    assert response.json["errors"] == {
        "row 2": {"depends_on": ["this would make a dependency cycle"]},
        "row 3": {"depends_on": ["a work item cannot depend on itself"]},
        "row 4": {"due_on": ["must not be before earliest_on"]},
        "row 5": {"depends_on": ["no work item 'NEW-1' (in an earlier row or the project)"]},
        "row 6": {"depends_on": ["no work item 'NEW-3' (in an earlier row or the project)"]},
    }
    assert _count(db, WorkItem) == 4 and _deps(db, "HH-SRV-1") == []


def test_a_cycle_through_rows_of_the_same_upload_is_refused(client, db, setup):
    project, headers = setup
    _upload(client, headers, project, "sites", SITES)
    rows = _items(["A,Kiel Branch,network,desktop,2,,,", "B,Kiel Branch,server,desktop,2,,,A",
                   "C,Kiel Branch,server,desktop,2,,,B", "A,Kiel Branch,network,desktop,2,,,C"])
    response = _upload(client, headers, project, "work-items", rows)
    assert response.json["errors"] == {
        "row 5": {"depends_on": ["this would make a dependency cycle"]}}
    fixed = rows.replace(",C,A\n", ",,A\n")
    assert _upload(client, headers, project, "work-items", fixed).status_code == 200
    assert (_deps(db, "A"), _deps(db, "C")) == ([], ["B"])


def test_row_errors_come_in_the_order_the_per_row_import_checked(client, db, setup):
    project, headers = setup
    _upload(client, headers, project, "sites", SITES)
    rows = _items(["A,Nowhere,network,desktop,2,2027-04-10,2027-04-01,",  # dates before site
                   "B,Nowhere,network,nothing,2,,,",  # site before skill
                   "C,Kiel Branch,network,nothing,2,,,ZZ",  # skill before dependencies
                   "D,Kiel Branch,network,desktop,-1,2027-04-10,2027-04-01,"])  # fields first
    errors = _upload(client, headers, project, "work-items", rows).json["errors"]
    assert errors == {
        "row 2": {"due_on": ["must not be before earliest_on"]},
        "row 3": {"site": ["no site of this name in the project"]},
        "row 4": {"skill": ["unknown skill code 'nothing'"]},
        "row 5": {"effort_hours": ["Must be greater than 0 and less than or equal to 10000."]},
    }


def test_dry_run_of_updates_changes_nothing(client, db, setup):
    project, headers = setup
    _upload(client, headers, project, "sites", SITES)
    _upload(client, headers, project, "work-items", ITEMS)
    changed = ITEMS.replace("File server", "Other").replace(",HH-SRV-1;HH-SQL-1", ",")
    response = _upload(client, headers, project, "work-items", changed, dry_run=True)
    assert response.json == {"dry_run": True, "rows": 4, "created": 0, "updated": 4}
    assert db.session.scalar(db.select(WorkItem.label).filter_by(ref="HH-SRV-1")) \
        == "File server"
    assert _deps(db, "HH-DT-1") == ["HH-SQL-1", "HH-SRV-1"]


def test_list_cells_are_parsed_per_row(client, db, setup):
    # a cell's text is parsed once per upload; each row still gets its own list
    project, headers = setup
    text = "name,latitude,longitude,access_weekdays,blackout_dates\n" \
        "A,50,8,1-5,2027-04-30\nB,51,9,1-5,2027-04-30\nC,52,9,1-8,2027-04-31\n"
    errors = _upload(client, headers, project, "sites", text).json["errors"]
    assert errors == {"row 4": {"access_weekdays": {"7": [
        "Must be greater than or equal to 1 and less than or equal to 7."]},
        "blackout_dates": {"0": ["Not a valid date."]}}}
    _upload(client, headers, project, "sites", text.replace("C,52,9,1-8,2027-04-31\n", ""))
    assert [site.access_weekdays for site in db.session.scalars(db.select(Site))] \
        == [[1, 2, 3, 4, 5]] * 2


# --- a full-size upload --------------------------------------------------------------------


def _many_sites(count: int, street: str) -> str:
    return "name,address,latitude,longitude,access_weekdays\n" + "".join(
        f"Site {n},{street} {n},{47 + n % 800 / 100},{6 + n % 900 / 100},1-5\n"
        for n in range(count))


def _many_items(count: int, label: str) -> str:
    # three a site: network; server after it; desktops after both
    rows = []
    for n in range(count):
        site, step = divmod(n, 3)
        deps = ("", f"S{site}-0", f"S{site}-1;S{site}-0")[step]
        rows.append(f"S{site}-{step},Site {site},{('network', 'server', 'desktop_batch')[step]},"
                    f"{label} {n},desktop,{1 + step},{deps}")
    return "ref,site,kind,label,skill,effort_hours,depends_on\n" + "\n".join(rows) + "\n"


def test_max_rows_import_update_and_a_bad_row_in_the_middle(client, db, setup):
    from staffing.projects.imports import MAX_ROWS

    project, headers = setup
    sites = _upload(client, headers, project, "sites", _many_sites(MAX_ROWS, "Street"))
    assert sites.json == {"dry_run": False, "rows": MAX_ROWS, "created": MAX_ROWS,
                          "updated": 0}
    again = _upload(client, headers, project, "sites", _many_sites(MAX_ROWS, "Avenue"))
    assert again.json["updated"] == MAX_ROWS and _count(db, Site) == MAX_ROWS
    assert db.session.scalar(db.select(Site.address).filter_by(name="Site 12345")) \
        == "Avenue 12345"

    items = _upload(client, headers, project, "work-items", _many_items(MAX_ROWS, "Wave 1"))
    assert items.json["created"] == MAX_ROWS, items.json
    edges = db.session.scalar(db.select(db.func.count()).select_from(
        WorkItem.depends_on.property.secondary))
    assert edges == MAX_ROWS // 3 * 3 + (MAX_ROWS % 3 == 2)
    assert _deps(db, "S4000-2") == ["S4000-0", "S4000-1"]
    update = _many_items(MAX_ROWS, "Wave 2")
    assert _upload(client, headers, project, "work-items", update).json["updated"] == MAX_ROWS
    assert db.session.scalar(db.select(WorkItem.label).filter_by(ref="S4000-2")) \
        == "Wave 2 12002"

    lines = _many_items(MAX_ROWS, "Wave 3").splitlines()
    lines[10_001] = lines[10_001].replace(",desktop,", ",printers,")  # spreadsheet line 10,002
    response = _upload(client, headers, project, "work-items", "\n".join(lines) + "\n")
    assert response.status_code == 422
    assert response.json["errors"] == {"row 10002": {"skill": ["unknown skill code 'printers'"]}}
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkItem).where(
        WorkItem.label.like("Wave 3%"))) == 0
    assert _count(db, WorkItem) == MAX_ROWS and _deps(db, "S4000-2") == ["S4000-0", "S4000-1"]


def test_cells_follow_the_apis_field_rules(client, db, setup):
    project, headers = setup
    text = "name,latitude,longitude,ready_on,blackout_dates\nA,50,8,1999-12-31,\n" \
        "B,50,8,," + ";".join("2027-01-01" for _ in range(1001)) + "\n"
    errors = _upload(client, headers, project, "sites", text).json["errors"]
    assert set(errors) == {"row 2", "row 3"}
    assert set(errors["row 2"]) == {"ready_on"} and set(errors["row 3"]) == {"blackout_dates"}
