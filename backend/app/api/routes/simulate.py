"""Simulation and geometry."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from backend.app.api.deps import SessionDep, SettingsDep
from backend.app.schemas import GeometryIn, GeometryOut, PolicyTrajectory, SimulateIn, Trajectory
from backend.app.services import playground, simulate

router = APIRouter(prefix="/api", tags=["simulate"])


@router.post("/simulate")
async def post_simulate(req: SimulateIn, settings: SettingsDep, session: SessionDep) -> Trajectory | PolicyTrajectory:
    """Open loop (effector + excitations) or closed loop under a saved run's policy (run_id + targets)."""
    if req.run_id is not None:
        snap = await run_in_threadpool(playground.evaluate_run, session, req.run_id, req.targets)
        return PolicyTrajectory(run_id=req.run_id, snapshot=snap)
    return await run_in_threadpool(simulate.simulate_open_loop, req, settings)


@router.post("/geometry")
async def post_geometry(req: GeometryIn, settings: SettingsDep) -> GeometryOut:
    """Moment arms and musculotendon lengths over each joint's range, and a posture to draw."""
    return await run_in_threadpool(simulate.geometry_sweep, req, settings)
