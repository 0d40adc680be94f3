"""MotorNet Studio server: FastAPI app, storage, training workers and live streaming."""
