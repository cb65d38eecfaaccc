"""Who may see, assign and delete tasks: the service's policy functions, without a database."""

from __future__ import annotations

import uuid

import pytest

from folio.core.errors import PermissionDeniedError
from folio.core.security import Principal, Role
from folio.tasks.service import check_may_assign, check_may_delete, visibility_for
from tests.unit.tasks.builders import make_task

pytestmark = pytest.mark.unit

SHOP = uuid.uuid4()


def member(role: Role) -> Principal:
    """A member of SHOP with ``role``."""
    return Principal(tenant_id=SHOP, role=role, user_id=uuid.uuid4(), via="token")


def api_key(role: Role) -> Principal:
    """An API key of SHOP with ``role``."""
    return Principal(tenant_id=SHOP, role=role, api_key_id=uuid.uuid4(), via="api_key")


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.STAFF])
def test_staff_see_every_task(role: Role) -> None:
    """Staff roles see tasks whoever created or holds them."""
    assert visibility_for(member(role)).allows(make_task())


def test_customer_sees_only_own_or_assigned_tasks() -> None:
    """A customer sees tasks they created or are assigned, nothing else."""
    customer = member(Role.CUSTOMER)
    seen = visibility_for(customer)
    assert seen.allows(make_task(created_by=customer.user_id))
    assert seen.allows(make_task(assignee_id=customer.user_id))
    assert not seen.allows(make_task())


def test_customer_api_key_sees_what_it_created() -> None:
    """A customer API key has no user: it sees the tasks it created."""
    key = api_key(Role.CUSTOMER)
    seen = visibility_for(key)
    assert seen.allows(make_task(created_by=key.api_key_id))
    assert not seen.allows(make_task(assignee_id=None))


@pytest.mark.parametrize("principal", [member(Role.STAFF), member(Role.OWNER), api_key(Role.STAFF)])
def test_staff_may_assign_anyone(principal: Principal) -> None:
    """Staff (members or keys) may assign any member."""
    check_may_assign(principal, uuid.uuid4())


def test_customer_may_assign_only_themselves() -> None:
    """A customer may assign themselves or nobody, not someone else."""
    customer = member(Role.CUSTOMER)
    check_may_assign(customer, None)
    check_may_assign(customer, customer.user_id)
    with pytest.raises(PermissionDeniedError):
        check_may_assign(customer, uuid.uuid4())
    with pytest.raises(PermissionDeniedError):
        check_may_assign(api_key(Role.CUSTOMER), uuid.uuid4())


def test_only_staff_may_delete() -> None:
    """Deleting is for staff roles; customers (members or keys) are refused."""
    check_may_delete(member(Role.ADMIN))
    check_may_delete(api_key(Role.STAFF))
    for customer in (member(Role.CUSTOMER), api_key(Role.CUSTOMER)):
        with pytest.raises(PermissionDeniedError):
            check_may_delete(customer)
