"""Operations of the partners domain. They take the actor, check access, flush, never commit."""

from .accounts import (  # noqa: F401
    FIRM_PRIVATE_FIELDS,
    FIRM_PUBLIC_FIELDS,
    can_see_firm_details,
    create_firm,
    create_token,
    create_user,
    delete_firm,
    delete_user,
    firm_view,
    get_firm,
    get_user,
    list_firms,
    list_tokens,
    list_users,
    revoke_token,
    update_firm,
    update_user,
)
from .exclusions import (  # noqa: F401
    create_exclusion,
    delete_exclusion,
    get_exclusion,
    list_exclusions,
    update_exclusion,
)
from .memberships import (  # noqa: F401
    delete_membership,
    get_membership,
    invite_firm,
    list_memberships,
    update_membership,
)
from .offers import (  # noqa: F401
    create_offer,
    delete_offer,
    get_offer,
    list_offers,
    update_offer,
)
