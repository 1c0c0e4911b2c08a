"""User routes: create, list (admin), get, update, soft delete."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import (
    document_response,
    tag,
    validate_querystring,
    validate_request,
    validate_response,
)

from backend import extensions
from backend.api.v1.auth import REGISTER_LIMIT
from backend.db.request_scope import get_session
from backend.schemas.common import NoContent, Problem
from backend.schemas.user import UserCreate, UserOut, UserPage, UserQuery, UserUpdate
from backend.services import users
from backend.web.guards import admin_required, current_user, login_required
from backend.web.ratelimit import rate_limit

blueprint = Blueprint("users", __name__, url_prefix="/users")


@blueprint.post("")
@tag(["users"])
@validate_request(UserCreate)
@validate_response(UserOut, 201)
@document_response(Problem, 409)
@document_response(Problem, 429)
@rate_limit(REGISTER_LIMIT)
async def create_user(data: UserCreate) -> tuple[UserOut, int]:
    """Create an account (no tokens; log in afterwards)."""
    user = await users.register_user(
        get_session(),
        hasher=extensions.hasher(),
        settings=extensions.settings(),
        **data.model_dump(exclude={"password_confirm"}),
    )
    return UserOut.model_validate(user), 201


@blueprint.get("")
@tag(["users"])
@admin_required
@validate_querystring(UserQuery)
@validate_response(UserPage, 200)
@document_response(Problem, 403)
async def list_users(query_args: UserQuery) -> UserPage:
    """Every user, a page at a time (admin only)."""
    result = await users.list_users(
        get_session(),
        q=query_args.q,
        is_active=query_args.is_active,
        page=query_args.page,
        per_page=query_args.per_page,
    )
    return UserPage.model_validate(result.as_dict())


@blueprint.get("/<int:user_id>")
@tag(["users"])
@login_required
@validate_response(UserOut, 200)
@document_response(Problem, 403)
@document_response(Problem, 404)
async def get_user(user_id: int) -> UserOut:
    """One user: yourself, or anyone for an admin."""
    user = await users.get_visible_user(
        get_session(), actor=current_user(), user_id=user_id
    )
    return UserOut.model_validate(user)


@blueprint.route("/<int:user_id>", methods=["PATCH", "PUT"])
@tag(["users"])
@login_required
@validate_request(UserUpdate)
@validate_response(UserOut, 200)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
async def update_user(user_id: int, data: UserUpdate) -> UserOut:
    """Change the fields your role may write (PUT behaves as PATCH)."""
    user = await users.update_user(
        get_session(),
        actor=current_user(),
        user_id=user_id,
        changes=data.model_dump(exclude_unset=True),
        settings=extensions.settings(),
    )
    return UserOut.model_validate(user)


@blueprint.delete("/<int:user_id>")
@tag(["users"])
@login_required
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(NoContent, 204)
async def delete_user(user_id: int) -> tuple[str, int]:
    """Deactivate an account: its tokens and logins stop working at once."""
    await users.deactivate_user(get_session(), actor=current_user(), user_id=user_id)
    return "", 204
