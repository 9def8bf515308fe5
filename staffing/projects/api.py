"""REST resources of the projects domain: parse, call one operation, return."""

from flask.views import MethodView

from ..extensions import db
from ..pagination import SelectPage, Viewed
from ..schemas import Blueprint
from ..security import authenticate_api_request, current_actor
from . import imports
from . import operations as ops
from .models import Project
from .schemas import (
    CsvImportQueryArgs,
    CsvImportResultSchema,
    CsvUploadArgs,
    ProjectArgs,
    ProjectQueryArgs,
    ProjectSchema,
    ProjectUpdateArgs,
    SiteArgs,
    SiteQueryArgs,
    SiteSchema,
    SiteUpdateArgs,
    SkillArgs,
    SkillSchema,
    SkillUpdateArgs,
    WorkItemArgs,
    WorkItemQueryArgs,
    WorkItemSchema,
    WorkItemUpdateArgs,
)

projects = Blueprint("projects", __name__, url_prefix="/api/v1",
                     description="Rollout projects, led by one firm")
skills = Blueprint("skills", __name__, url_prefix="/api/v1",
                   description="A project's skill catalogue")
sites = Blueprint("sites", __name__, url_prefix="/api/v1", description="Client sites")
work_items = Blueprint("work_items", __name__, url_prefix="/api/v1",
                       description="Work at the sites: servers, desktop batches, network")
csv_imports = Blueprint("imports", __name__, url_prefix="/api/v1",
                        description="Bulk entry of sites and work items as CSV (all or nothing)")
blueprints = [projects, skills, sites, work_items, csv_imports]
for _blp in blueprints:
    _blp.before_request(authenticate_api_request)


@projects.route("/projects")
class Projects(MethodView):
    @projects.arguments(ProjectQueryArgs, location="query")
    @projects.response(200, ProjectSchema(many=True))
    @projects.paginate(SelectPage)
    def get(self, args):
        """List the projects your firm leads or partners on"""
        return ops.list_projects(current_actor(), **args)

    @projects.arguments(ProjectArgs)
    @projects.response(201, ProjectSchema)
    def post(self, args):
        """Create a project led by your firm (admins, coordinators)"""
        return ops.create_project(current_actor(), args)


@projects.route("/projects/<int:project_id>")
@projects.etag
class ProjectById(MethodView):
    @projects.response(200, ProjectSchema)
    def get(self, project_id):
        """Read a project you take part in"""
        return ops.get_project(current_actor(), project_id)

    @projects.arguments(ProjectUpdateArgs)
    @projects.response(200, ProjectSchema)
    def patch(self, args, project_id):
        """Change a project (lead coordinators)"""
        actor = current_actor()
        project = ops.get_project(actor, project_id)
        projects.check_if_match(project, ProjectSchema)
        return ops.update_project(actor, project, args)

    @projects.response(204)
    def delete(self, project_id):
        """Delete a project and everything in it (lead coordinators)"""
        actor = current_actor()
        project = ops.get_project(actor, project_id)
        projects.check_if_match(project, ProjectSchema)
        ops.delete_project(actor, project)


@skills.route("/projects/<int:project_id>/skills")
class Skills(MethodView):
    @skills.response(200, SkillSchema(many=True))
    @skills.paginate(SelectPage)
    def get(self, project_id):
        """List the project's skill catalogue"""
        actor = current_actor()
        return ops.list_skills(actor, ops.get_project(actor, project_id))

    @skills.arguments(SkillArgs)
    @skills.response(201, SkillSchema)
    def post(self, args, project_id):
        """Add a skill to the catalogue (lead coordinators)"""
        actor = current_actor()
        return ops.create_skill(actor, ops.get_project(actor, project_id), args)


@skills.route("/skills/<int:skill_id>")
@skills.etag
class SkillById(MethodView):
    @skills.response(200, SkillSchema)
    def get(self, skill_id):
        """Read a skill"""
        return ops.get_skill(current_actor(), skill_id)

    @skills.arguments(SkillUpdateArgs)
    @skills.response(200, SkillSchema)
    def patch(self, args, skill_id):
        """Change a skill (lead coordinators)"""
        actor = current_actor()
        skill = ops.get_skill(actor, skill_id)
        skills.check_if_match(skill, SkillSchema)
        return ops.update_skill(actor, skill, args)

    @skills.response(204)
    def delete(self, skill_id):
        """Remove a skill no work item needs (lead coordinators)"""
        actor = current_actor()
        skill = ops.get_skill(actor, skill_id)
        skills.check_if_match(skill, SkillSchema)
        ops.delete_skill(actor, skill)


@sites.route("/projects/<int:project_id>/sites")
class Sites(MethodView):
    @sites.arguments(SiteQueryArgs, location="query")
    @sites.response(200, SiteSchema(many=True))
    @sites.paginate(SelectPage)
    def get(self, args, project_id):
        """List the project's sites"""
        actor = current_actor()
        project = ops.get_project(actor, project_id)
        return Viewed(ops.list_sites(actor, project, **args),
                      lambda rows: ops.sites_view(actor, project, rows))

    @sites.arguments(SiteArgs)
    @sites.response(201, SiteSchema)
    def post(self, args, project_id):
        """Add a site (lead coordinators)"""
        actor = current_actor()
        return ops.create_site(actor, ops.get_project(actor, project_id), args)


@sites.route("/sites/<int:site_id>")
@sites.etag
class SiteById(MethodView):
    @sites.response(200, SiteSchema)
    def get(self, site_id):
        """Read a site (a partner: the street address once its firm has work there)"""
        actor = current_actor()
        return _as_read(actor, ops.get_site(actor, site_id))

    @sites.arguments(SiteUpdateArgs)
    @sites.response(200, SiteSchema)
    def patch(self, args, site_id):
        """Change a site (lead coordinators)"""
        actor = current_actor()
        site = ops.get_site(actor, site_id)
        sites.check_if_match(site, SiteSchema, lambda: _as_read(actor, site))
        return ops.update_site(actor, site, args)

    @sites.response(204)
    def delete(self, site_id):
        """Remove a site with its work items (lead coordinators)"""
        actor = current_actor()
        site = ops.get_site(actor, site_id)
        sites.check_if_match(site, SiteSchema, lambda: _as_read(actor, site))
        ops.delete_site(actor, site)


def _as_read(actor, site):
    """The site as this reader reads it (its ETag is of that)."""
    return ops.sites_view(actor, db.session.get(Project, site.project_id), [site])[0]


@work_items.route("/projects/<int:project_id>/work-items")
class WorkItems(MethodView):
    @work_items.arguments(WorkItemQueryArgs, location="query")
    @work_items.response(200, WorkItemSchema(many=True))
    @work_items.paginate(SelectPage)
    def get(self, args, project_id):
        """List the project's work items"""
        actor = current_actor()
        return ops.list_work_items(actor, ops.get_project(actor, project_id), **args)

    @work_items.arguments(WorkItemArgs)
    @work_items.response(201, WorkItemSchema)
    def post(self, args, project_id):
        """Add a work item at a site (lead coordinators)"""
        actor = current_actor()
        return ops.create_work_item(actor, ops.get_project(actor, project_id), args)


@work_items.route("/work-items/<int:item_id>")
@work_items.etag
class WorkItemById(MethodView):
    @work_items.response(200, WorkItemSchema)
    def get(self, item_id):
        """Read a work item"""
        return ops.get_work_item(current_actor(), item_id)

    @work_items.arguments(WorkItemUpdateArgs)
    @work_items.response(200, WorkItemSchema)
    def patch(self, args, item_id):
        """Change a work item (lead coordinators)"""
        actor = current_actor()
        item = ops.get_work_item(actor, item_id)
        work_items.check_if_match(item, WorkItemSchema)
        return ops.update_work_item(actor, item, args)

    @work_items.response(204)
    def delete(self, item_id):
        """Remove a work item (lead coordinators)"""
        actor = current_actor()
        item = ops.get_work_item(actor, item_id)
        work_items.check_if_match(item, WorkItemSchema)
        ops.delete_work_item(actor, item)


@csv_imports.route("/projects/<int:project_id>/imports/sites")
class SiteImport(MethodView):
    @csv_imports.arguments(CsvImportQueryArgs, location="query")
    @csv_imports.arguments(CsvUploadArgs, location="files")
    @csv_imports.response(200, CsvImportResultSchema)
    def post(self, query, upload, project_id):
        """Upload sites as CSV; any bad row imports nothing (lead coordinators)"""
        actor = current_actor()
        project = ops.get_project(actor, project_id)
        return imports.import_sites(actor, project, upload["file"].read(), query["dry_run"])


@csv_imports.route("/projects/<int:project_id>/imports/work-items")
class WorkItemImport(MethodView):
    @csv_imports.arguments(CsvImportQueryArgs, location="query")
    @csv_imports.arguments(CsvUploadArgs, location="files")
    @csv_imports.response(200, CsvImportResultSchema)
    def post(self, query, upload, project_id):
        """Upload work items as CSV; any bad row imports nothing (lead coordinators)"""
        actor = current_actor()
        project = ops.get_project(actor, project_id)
        return imports.import_work_items(actor, project, upload["file"].read(),
                                         query["dry_run"])
