"""Kensa visual-inspection API client: the original SDK's ``VisualInspectionSDK``, standard library only."""
from .errors import APIError, ModelFailedError, WaitTimeoutError
from .sdk import VisualInspectionSDK

__all__ = ["VisualInspectionSDK", "APIError", "ModelFailedError", "WaitTimeoutError"]
__version__ = "0.1.0"
