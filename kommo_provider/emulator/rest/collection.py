"""One generic collection of REST objects: ids, ownership, filtered lists, CRUD, deletes remembered.

An object type (:class:`ObjectType`) declares its names, who owns its objects, what a list filters on,
its field shapes, and hooks only where Kommo is irregular; :class:`Collection` keeps the objects by id
and by account, so a request never scans another account's objects. No HTTP and no lock here: the
backend calls a collection under its own lock, with the account and the clock.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final, Generic, Literal, Protocol, TypeVar

from kommo_provider.emulator.rest.exceptions import FieldError, NotFound, ValidationFailed
from kommo_provider.emulator.rest.models import Account, Grant, ObjectInput, UnknownObjectError

Owner = Literal["integration", "account"]
OwnerKey = tuple[int, str | None]


class StoredObject(Protocol):
    """What every stored object has: its id and the account it belongs to."""

    id: int
    account_id: int


T = TypeVar("T", bound=StoredObject)

CRUD_COLLECTION_ROUTES: Final = {
    "GET": "list_objects",
    "POST": "create_objects",
    "PATCH": "update_objects",
    "DELETE": "delete_objects",
}
CRUD_ITEM_ROUTES: Final = {"GET": "get_object", "PATCH": "update_object", "DELETE": "delete_object"}


class ObjectType(Generic[T]):
    """The declaration of one REST object type; subclasses set the names and override the hooks.

    Names: :attr:`name` (the collection in ``/_emulator/objects/<name>/<id>`` and in the state dump),
    :attr:`path` (under ``/api/v4/``), :attr:`embedded` (the ``_embedded`` key of lists), :attr:`singular`
    (the key of admin answers), :attr:`noun` (in messages). :attr:`owned_by` says whether only the
    integration that made an object sees it, or every integration of the account. :attr:`filters` are
    the fields ``filter[<field>]=value`` matches; :attr:`with_values` what ``with=`` can add.
    """

    name: ClassVar[str]
    path: ClassVar[str]
    embedded: ClassVar[str]
    singular: ClassVar[str]
    noun: ClassVar[str]
    owned_by: ClassVar[Owner] = "integration"
    filters: ClassVar[tuple[str, ...]] = ()
    with_values: ClassVar[frozenset[str]] = frozenset()
    first_id: ClassVar[int] = 1
    links: ClassVar[bool] = True
    """Whether each object carries ``_links.self`` (false where Kommo has no GET by id)."""
    delete_answers_result: ClassVar[bool] = False
    """Kommo answers a delete with 200 ``{"result": true}`` (true) or with 204 (false)."""
    collection_routes: ClassVar[Mapping[str, str]] = CRUD_COLLECTION_ROUTES
    item_routes: ClassVar[Mapping[str, str]] = CRUD_ITEM_ROUTES
    actions: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    """Operations on one object beyond CRUD: path after ``/{id}`` (``/review``) -> its HTTP methods;
    :meth:`act` does them."""
    drift_keys: ClassVar[frozenset[str]] = frozenset()
    """What an out-of-band change (the admin drift route) may set."""

    @property
    def label(self) -> str:
        """The singular name in prose (``source``)."""
        return self.singular.replace("_", " ")

    # Hooks ----------------------------------------------------------------------------------------

    def shape(
        self, payload: Mapping[str, Any], path: str, *, creating: bool
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """The recognised fields of one request object and their shape problems (no state)."""
        raise NotImplementedError

    def build(self, object_id: int, grant: Grant, account: Account, fields: Mapping[str, Any], now: int) -> T:
        """A new object from checked fields (``create_errors`` found nothing)."""
        raise NotImplementedError

    def create_errors(
        self, account: Account, owned: Sequence[T], inputs: Sequence[ObjectInput]
    ) -> list[list[FieldError]]:
        """Per item, what the state refuses (``owned``: what the caller already has); none by default."""
        return [[] for _ in inputs]

    def update_errors(
        self, account: Account, owned: Sequence[T], targets: Sequence[T], inputs: Sequence[ObjectInput]
    ) -> list[list[FieldError]]:
        """Per item, what the state refuses of a change to ``targets``; none by default."""
        return [[] for _ in inputs]

    def act(self, action: str, collection: Collection[T], grant: Grant, object_id: int, now: int) -> Any:
        """Do one of :attr:`actions` on an object the grant's owner holds; the answer's body."""
        raise NotImplementedError

    def apply(self, obj: T, fields: Mapping[str, Any], now: int) -> None:
        """Write checked fields onto the object (and its ``updated_at`` when it has one)."""
        for name, value in fields.items():
            setattr(obj, name, copy.deepcopy(value))
        if hasattr(obj, "updated_at"):
            setattr(obj, "updated_at", now)  # noqa: B010 (not every object type has the attribute)

    def drift_problem(self, changes: Mapping[str, Any]) -> str | None:
        """Why an out-of-band change is malformed (checked before the object is looked up), or ``None``."""
        return None

    def drift(self, obj: T, changes: Mapping[str, Any], account: Account, now: int) -> None:
        """Apply a well-formed out-of-band change; ``ValueError`` when the state refuses it."""
        raise ValueError(f"{self.noun} objects cannot be changed out of band")

    def to_dict(self, obj: T, wanted: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The fields the API shows (``wanted``: the ``with`` values asked for)."""
        raise NotImplementedError


class Collection(Generic[T]):
    """The objects of one type across accounts: by id, by account, and the ids their owners deleted."""

    def __init__(self, kind: ObjectType[T]) -> None:
        self.kind = kind
        self._ids = itertools.count(kind.first_id)
        self._objects: dict[int, T] = {}
        self._by_account: dict[int, dict[int, T]] = {}
        self._deleted: dict[int, dict[int, OwnerKey]] = {}
        """Per account, the ids deleted and who owned them: their owner then gets 204, not 404."""
        self._restored: set[int] = set()
        """Ids put back by :meth:`restore`: the counter skips them (every other id it passed already)."""

    # Ownership ------------------------------------------------------------------------------------

    def _owner(self, account_id: int, integration_id: str | None) -> OwnerKey:
        return (account_id, integration_id if self.kind.owned_by == "integration" else None)

    def _owner_of(self, obj: T) -> OwnerKey:
        return self._owner(obj.account_id, getattr(obj, "integration_id", None))

    def visible(self, grant: Grant) -> list[T]:
        """The live objects the grant's owner sees, in creation order (its own account's only)."""
        owner = self._owner(grant.account_id, grant.integration_id)
        found = self._by_account.get(grant.account_id, {}).values()
        return [obj for obj in found if self._owner_of(obj) == owner]

    def owned(self, grant: Grant, object_id: int) -> T:
        """The live object, if the grant's owner has it; else Kommo's 404."""
        obj = self._objects.get(object_id)
        if obj is None or self._owner_of(obj) != self._owner(grant.account_id, grant.integration_id):
            raise NotFound(f"{self.kind.noun} {object_id} not found")
        return obj

    # API operations -------------------------------------------------------------------------------

    def matching(self, grant: Grant, filters: Mapping[str, Any]) -> list[T]:
        """The live objects the grant's owner sees whose fields equal every value of ``filters``."""
        return [o for o in self.visible(grant) if all(getattr(o, k) == v for k, v in filters.items())]

    def find(self, grant: Grant, filters: Mapping[str, str] | None = None) -> list[T]:
        """Copies of what the grant's owner sees, matching every ``filter[<field>]`` given."""
        return copy.deepcopy(self.matching(grant, filters or {}))

    def get(self, grant: Grant, object_id: int) -> T | None:
        """A copy of the object; ``None`` once its owner deleted it (Kommo answers 204); else 404."""
        deleted = self._deleted.get(grant.account_id, {})
        if deleted.get(object_id) == self._owner(grant.account_id, grant.integration_id):
            return None
        return copy.deepcopy(self.owned(grant, object_id))

    def create(self, grant: Grant, account: Account, inputs: Sequence[ObjectInput], now: int) -> list[T]:
        """Create all the objects or none (one 400 lists every item the state refuses)."""
        errors = self.kind.create_errors(account, self.visible(grant), inputs)
        _refuse(inputs, errors)
        created = [self.kind.build(self._new_id(), grant, account, item.fields, now) for item in inputs]
        for obj in created:
            self.add(obj)
        return copy.deepcopy(created)

    def update(self, grant: Grant, account: Account, inputs: Sequence[ObjectInput], now: int) -> list[T]:
        """Change all the objects or none (404 for one the grant's owner does not have)."""
        targets = [self.owned(grant, int(item.object_id or 0)) for item in inputs]
        errors = self.kind.update_errors(account, self.visible(grant), targets, inputs)
        _refuse(inputs, errors)
        for item, target in zip(inputs, targets, strict=True):
            self.kind.apply(target, item.fields, now)
        return copy.deepcopy(targets)

    def delete(self, grant: Grant, object_ids: Sequence[int]) -> None:
        """Delete all the objects or none (404 for one the grant's owner does not have)."""
        unique = list(dict.fromkeys(object_ids))
        for object_id in unique:
            self.owned(grant, object_id)
        for object_id in unique:
            self.remove(object_id)

    def _new_id(self) -> int:
        """The next id that no object has, nor had: the counter only goes forward, so only restored
        ids can be ahead of it."""
        while (candidate := next(self._ids)) in self._restored:
            pass
        return candidate

    def restore(self, obj: T) -> None:
        """Put an object back with its own id; ``ValueError`` if the id is taken."""
        if obj.id in self._objects or obj.id in self._deleted.get(obj.account_id, {}):
            raise ValueError(f"{self.kind.singular.replace('_', ' ')} id {obj.id} is taken")
        self._restored.add(obj.id)
        self.add(obj)

    # Storage and out-of-band changes --------------------------------------------------------------

    def add(self, obj: T) -> None:
        self._objects[obj.id] = obj
        self._by_account.setdefault(obj.account_id, {})[obj.id] = obj

    def remove(self, object_id: int) -> T:
        """Delete an object (its owner then gets 204 for it); ``UnknownObjectError`` if there is none."""
        obj = self.require(object_id)
        del self._objects[object_id]
        del self._by_account[obj.account_id][object_id]
        self._deleted.setdefault(obj.account_id, {})[object_id] = self._owner_of(obj)
        return obj

    def require(self, object_id: int) -> T:
        """The live object by id, whoever owns it; ``UnknownObjectError`` if there is none."""
        obj = self._objects.get(object_id)
        if obj is None:
            raise UnknownObjectError(f"no {self.kind.label} {object_id}")
        return obj

    def change(self, object_id: int, changes: Mapping[str, Any], account: Account, now: int) -> T:
        """An out-of-band change, as a user in Kommo's UI makes it; returns a copy of the object."""
        self.check_change(changes)
        obj = self.require(object_id)
        self.kind.drift(obj, changes, account, now)
        return copy.deepcopy(obj)

    def check_change(self, changes: Mapping[str, Any]) -> None:
        """``ValueError`` for a key the type does not let change, or a malformed value."""
        unknown = sorted(set(changes) - self.kind.drift_keys)
        if unknown:
            allowed = ", ".join(sorted(self.kind.drift_keys)) or "nothing"
            raise ValueError(f"unknown key(s) {', '.join(unknown)}: a {self.kind.noun} can change {allowed}")
        problem = self.kind.drift_problem(changes)
        if problem:
            raise ValueError(problem)

    def select(self, account_id: int | None = None, integration_id: str | None = None) -> list[T]:
        """Copies of every object, or of one account's and/or integration's, in creation order."""
        pool = self._objects if account_id is None else self._by_account.get(account_id, {})
        found = [
            obj
            for obj in pool.values()
            if integration_id is None or getattr(obj, "integration_id", None) == integration_id
        ]
        return copy.deepcopy(found)

    def forget_account(self, account_id: int) -> None:
        """Drop everything of an account (it was replaced)."""
        for object_id in self._by_account.pop(account_id, {}):
            del self._objects[object_id]
        self._deleted.pop(account_id, None)

    def clear(self) -> None:
        """Forget every object and delete (the id counter goes on, as Kommo's ids do)."""
        self._objects.clear()
        self._by_account.clear()
        self._deleted.clear()


def _refuse(inputs: Sequence[ObjectInput], errors: Sequence[Sequence[FieldError]]) -> None:
    """One 400 listing every item's problems, if any item has one."""
    if any(errors):
        raise ValidationFailed([(item.request_id, list(e)) for item, e in zip(inputs, errors, strict=True)])
