"""Health, readiness, OpenAPI, error shape and the migrations agreeing with the models."""

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from staffing.extensions import db as _db


def test_healthz_answers_without_auth(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_reports_the_database(client, app):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["database"] in ("sqlite", "postgresql")


def test_openapi_describes_endpoints_and_bearer_auth(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/firms" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    post = spec["paths"]["/api/v1/firms"]["post"]
    assert "requestBody" in post and "201" in post["responses"]


def test_docs_page_is_served_from_package_files(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert b"/api/v1/docs/assets/swagger-ui-bundle.js" in page.data
    assert b"cdn" not in page.data.lower()
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000
    asset.close()


def test_api_without_token_is_401_in_the_error_shape(client):
    response = client.get("/api/v1/firms")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json) == {"code", "status", "message", "errors"}
    assert response.json["errors"] == {}
    assert response.json["code"] == 401


def test_unknown_route_is_404_json_for_api(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json["code"] == 404


def test_migrations_match_the_models(app):
    with app.app_context(), _db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, _db.metadata) == []


def test_openapi_documents_every_api_route_with_schemas(app, client):
    spec = client.get("/api/v1/openapi.json").json
    methods = {"get", "post", "put", "patch", "delete"}
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        own_pages = rule.endpoint.startswith(("api-docs", "service"))
        if not rule.rule.startswith("/api/v1/") or own_pages:
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} undocumented"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in methods:
                continue
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert success, f"{method} {path} has no success response"
            if success[0] != "204":
                assert "content" in operation["responses"][success[0]], f"{method} {path}"
            if method in ("post", "patch", "put"):
                assert "requestBody" in operation, f"{method} {path} has no request schema"


def test_no_secret_reaches_the_logs(client, create_user, auth, caplog):
    user = create_user()
    headers = auth(user)
    caplog.set_level("DEBUG")
    client.get("/api/v1/users/me", headers=headers)
    client.get("/api/v1/users/me", headers={"Authorization": "Bearer stf_wrong-secret"})
    client.post("/api/v1/tokens", json={"name": "x"}, headers=headers)
    secret = headers["Authorization"].split()[1]
    assert secret not in caplog.text and "stf_wrong-secret" not in caplog.text


def test_an_id_no_database_can_hold_is_a_plain_404(client, create_user, auth):
    headers = auth(create_user())
    for url in ("/api/v1/plans/99999999999999999999999", "/api/v1/projects/" + "9" * 30,
                "/api/v1/solve-jobs/99999999999999999999999"):
        response = client.get(url, headers=headers)
        assert response.status_code == 404, (url, response.json)
        assert set(response.json) == {"code", "status", "message", "errors"}


def test_a_body_that_is_not_json_is_refused_not_ignored(client, create_user, auth):
    headers = auth(create_user())
    response = client.post("/api/v1/tokens", data='{"name": "laptop"}', headers=headers,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json["message"]
    assert client.post("/api/v1/tokens", json={"name": "laptop"},
                       headers=headers).status_code == 201


def test_the_database_away_answers_503_in_the_error_shape(client, create_user, auth,
                                                         monkeypatch):
    import sqlalchemy as sa

    from staffing.projects import api as projects_api

    headers = auth(create_user())

    def away(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("database is locked"))
    monkeypatch.setattr(projects_api.ops, "list_projects", away)
    response = client.get("/api/v1/projects", headers=headers)
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert "nothing was saved" in response.json["message"]


# --- input the service refuses with a 4xx rather than failing on (issue 12) -------------------


def test_405_names_the_allowed_methods(client, create_user, auth):
    response = client.open("/api/v1/projects/1", method="TRACE",
                           headers=auth(create_user(role="coordinator")))
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PATCH",
                                                                          "DELETE"}
    assert response.content_type == "application/json"
    assert set(response.json) == {"code", "status", "message", "errors"}


def test_json_nested_100000_deep_is_a_400(client, create_user, auth):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/projects", data=body, content_type="application/json",
                           headers=auth(create_user(role="coordinator")))
    assert response.status_code == 400
    assert "nested" in response.json["message"]


def test_json_nested_past_the_limit_is_a_400_and_within_it_is_read(client, create_user, auth):
    from staffing.schemas import JSON_DEPTH_LIMIT

    headers = auth(create_user(role="coordinator"))
    deep = {"name": "P", "client_name": "C", "start_on": "2027-03-01", "end_on": "2027-03-31",
            "description": ["x"]}
    for _ in range(JSON_DEPTH_LIMIT):
        deep["description"] = [deep["description"]]
    assert client.post("/api/v1/projects", json=deep, headers=headers).status_code == 400
    shallow = deep | {"description": ["x"]}
    assert client.post("/api/v1/projects", json=shallow, headers=headers).status_code == 422


def test_json_body_over_the_limit_is_a_413(client, create_user, auth):
    from staffing.schemas import JSON_BODY_LIMIT

    body = '{"name": "' + "x" * JSON_BODY_LIMIT + '"}'
    response = client.post("/api/v1/projects", data=body, content_type="application/json",
                           headers=auth(create_user(role="coordinator")))
    assert response.status_code == 413 and response.json["code"] == 413


def test_ids_beyond_an_integer_column_match_no_route(client, create_user, auth):
    headers = auth(create_user(role="coordinator"))
    for path in ("/api/v1/projects/2147483648", "/api/v1/projects/99999999999999999999",
                 "/api/v1/firms/0", "/api/v1/plans/2147483648"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
    assert client.get("/api/v1/projects/2147483647", headers=headers).status_code == 404


def test_a_page_past_any_offset_is_an_empty_page(client, create_user, create_project, auth):
    user = create_user(role="coordinator")
    create_project(lead_firm=user.firm)
    for path in ("/api/v1/projects?page=99999999999999999999",
                 "/api/v1/firms?page=99999999999999999999&page_size=100"):
        response = client.get(path, headers=auth(user))
        assert response.status_code == 200 and response.json == [], path
        assert json.loads(response.headers["X-Pagination"])["total"] >= 1
    too_big = client.get("/api/v1/projects?page_size=101", headers=auth(user))
    assert too_big.status_code == 422


def test_every_paginated_answer_documents_x_pagination_as_json(client):
    spec = client.get("/api/v1/openapi.json").json
    paginated = [op for item in spec["paths"].values() for method, op in item.items()
                 if method != "parameters"
                 and any(p.get("name") == "page" for p in op.get("parameters", []))]
    assert len(paginated) == 14  # with the plan's adjustments and the project's bans
    for operation in paginated:
        header = operation["responses"]["200"]["headers"]["X-Pagination"]
        assert header["required"] is True
        assert header["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/PaginationMetadata"}


def test_no_bound_in_the_openapi_is_a_string(client):
    """Decimal bounds once appeared as "maximum": "100.00": no tool can generate from that."""
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("minimum", "maximum") and not isinstance(value, int | float):
                    found.append(f"{path}/{key}")
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for n, value in enumerate(node):
                walk(value, f"{path}/{n}")

    walk(client.get("/api/v1/openapi.json").json, "")
    assert found == []
