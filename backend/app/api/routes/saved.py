"""CRUD of saved effector and task specs (``/api/effectors``, ``/api/tasks``)."""

from types import GenericAlias

from fastapi import APIRouter, Response, status

from backend.app.api.deps import SessionDep
from backend.app.models import SavedSpec
from backend.app.schemas import EffectorIn, EffectorOut, PathId, TaskIn, TaskOut
from backend.app.services import specs

SavedIn = EffectorIn | TaskIn
SavedOut = EffectorOut | TaskOut


def _router(kind: str, prefix: str, body: type[SavedIn], out: type[SavedOut]) -> APIRouter:
    router = APIRouter(prefix=f"/api/{prefix}", tags=[prefix])

    def _out(row: SavedSpec) -> SavedOut:
        fields = {"id": row.id, "name": row.name, "spec": row.spec, "created_at": row.created_at, "updated_at": row.updated_at}
        return out.model_validate(fields)

    def create(item: SavedIn, session: SessionDep) -> SavedOut:
        return _out(specs.create_saved(session, kind, item.name, item.spec))

    def list_all(session: SessionDep) -> list[SavedOut]:
        return [_out(r) for r in specs.list_saved(session, kind)]

    def get_one(item_id: PathId, session: SessionDep) -> SavedOut:
        return _out(specs.get_saved(session, kind, item_id))

    def update(item_id: PathId, item: SavedIn, session: SessionDep) -> SavedOut:
        return _out(specs.update_saved(session, kind, item_id, item.name, item.spec))

    def remove(item_id: PathId, session: SessionDep) -> Response:
        specs.delete_saved(session, kind, item_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    # FastAPI reads the body model from the annotation: this router's own, not the union
    for handler in (create, update):
        handler.__annotations__["item"] = body
    router.post("", status_code=status.HTTP_201_CREATED, response_model=out)(create)
    router.get("", response_model=GenericAlias(list, (out,)))(list_all)
    router.get("/{item_id}", response_model=out)(get_one)
    router.put("/{item_id}", response_model=out)(update)
    router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)(remove)
    for fn, verb in ((create, "create"), (list_all, "list"), (get_one, "get"), (update, "update"), (remove, "delete")):
        fn.__name__ = f"{verb}_{kind}"
    return router


effectors = _router("effector", "effectors", EffectorIn, EffectorOut)
tasks = _router("task", "tasks", TaskIn, TaskOut)
