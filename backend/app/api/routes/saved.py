"""CRUD of saved effector and task specs (``/api/effectors``, ``/api/tasks``)."""

from fastapi import APIRouter, Response, status

from backend.app.api.deps import SessionDep
from backend.app.schemas import EffectorIn, EffectorOut, PathId, TaskIn, TaskOut
from backend.app.services import specs


def _router(kind: str, prefix: str, body: type, out: type) -> APIRouter:
    router = APIRouter(prefix=f"/api/{prefix}", tags=[prefix])

    def _out(row) -> out:  # type: ignore[valid-type]
        return out(id=row.id, name=row.name, spec=row.spec, created_at=row.created_at, updated_at=row.updated_at)

    @router.post("", status_code=status.HTTP_201_CREATED, response_model=out)
    def create(item: body, session: SessionDep):  # type: ignore[valid-type]
        return _out(specs.create_saved(session, kind, item.name, item.spec))

    @router.get("", response_model=list[out])
    def list_all(session: SessionDep):
        return [_out(r) for r in specs.list_saved(session, kind)]

    @router.get("/{item_id}", response_model=out)
    def get_one(item_id: PathId, session: SessionDep):
        return _out(specs.get_saved(session, kind, item_id))

    @router.put("/{item_id}", response_model=out)
    def update(item_id: PathId, item: body, session: SessionDep):  # type: ignore[valid-type]
        return _out(specs.update_saved(session, kind, item_id, item.name, item.spec))

    @router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
    def remove(item_id: PathId, session: SessionDep) -> Response:
        specs.delete_saved(session, kind, item_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    for fn, verb in ((create, "create"), (list_all, "list"), (get_one, "get"), (update, "update"), (remove, "delete")):
        fn.__name__ = f"{verb}_{kind}"
    return router


effectors = _router("effector", "effectors", EffectorIn, EffectorOut)
tasks = _router("task", "tasks", TaskIn, TaskOut)
