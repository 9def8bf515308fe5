"""Health, readiness, OpenAPI, error shape and the migrations agreeing with the models."""

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
    assert set(response.json) == {"code", "status", "message"}
    assert response.json["code"] == 401


def test_unknown_route_is_404_json_for_api(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json["code"] == 404


def test_migrations_match_the_models(app):
    with app.app_context(), _db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, _db.metadata) == []
