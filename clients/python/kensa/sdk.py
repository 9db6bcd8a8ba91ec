"""The Kensa SDK with the original ``hacarus_visual_inspection`` methods, so a script written for the original
runs after changing only its import. Responses are the server's ``data`` payloads as plain dicts and lists."""
import json
import mimetypes
import os
import time
import uuid
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urljoin, urlparse
from urllib.request import Request, urlopen

from .errors import APIError, ModelFailedError, WaitTimeoutError

JSON = Any
FileInput = Union[str, "os.PathLike[str]", Tuple[str, bytes]]
"""A path, or ``(file_name, bytes)``."""


def _encode_multipart(fields: Sequence[Tuple[str, str]], files: Sequence[Tuple[str, str, bytes]]) -> Tuple[bytes, str]:
    """multipart/form-data by hand (the standard library has no encoder): text fields, then files."""
    boundary = f"kensa-{uuid.uuid4().hex}"
    chunks: List[bytes] = []
    for name, value in fields:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode("utf-8"))
    for field, file_name, data in files:
        safe_name = file_name.replace('"', "%22").replace("\r", "").replace("\n", "")
        content_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{safe_name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode("utf-8")
        )
        chunks.append(data)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode("utf-8"))
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def _read_file(item: FileInput) -> Tuple[str, bytes]:
    if isinstance(item, tuple):
        name, data = item
        return name, bytes(data)
    path = os.fspath(item)
    with open(path, "rb") as handle:
        return os.path.basename(path), handle.read()


class VisualInspectionSDK:
    """A client of one Kensa server for one API client.

    Like the original, it authorizes when created (wrong credentials raise ``APIError`` here), and when the
    server later refuses the token (it expired) it authorizes again once and retries.
    """

    def __init__(self, client_id: str, client_secret: str, api_url: str, language: str = "en", timeout: float = 60.0) -> None:
        url = api_url.rstrip("/")
        if not urlparse(url).path.endswith("/api"):
            url += "/api"
        self.api_url = url
        self.client_id = client_id
        self.client_secret = client_secret
        self.language = language
        self.timeout = timeout
        self.access_token: Optional[str] = None
        self.authorize()

    # ---- transport -------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if path.startswith("http://") or path.startswith("https://"):
            return path
        if path.startswith("/api/"):
            return urljoin(self.api_url, path)
        return self.api_url + path

    def _send(self, method: str, path: str, body: Optional[bytes] = None, content_type: Optional[str] = None,
              authorized: bool = True) -> bytes:
        url = self._url(path)
        for attempt in (0, 1):
            headers = {"Accept-Language": self.language, "Accept": "application/json"}
            if content_type:
                headers["Content-Type"] = content_type
            if authorized:
                headers["Authorization"] = f"Bearer {self.access_token}"
            request = Request(url, data=body, method=method, headers=headers)
            try:
                with urlopen(request, timeout=self.timeout) as response:
                    return response.read()
            except HTTPError as error:
                raw = error.read()
                if error.code == 401 and authorized and attempt == 0:
                    self.authorize()  # the token expired or the server's keys changed: once more
                    continue
                raise self._error(error.code, error.reason, raw, urlparse(url).path) from None
            except URLError as error:
                raise APIError(0, f"Cannot reach {urlparse(url).netloc}", str(error.reason), urlparse(url).path) from None
        raise AssertionError("unreachable")

    @staticmethod
    def _error(status: int, reason: str, raw: bytes, pointer: str) -> APIError:
        try:
            errors = json.loads(raw.decode("utf-8")).get("errors")
        except (ValueError, AttributeError, UnicodeDecodeError):
            errors = None
        if isinstance(errors, dict) and isinstance(errors.get("title"), str):
            source = errors.get("source") or {}
            return APIError(int(errors.get("status") or status), errors["title"], errors.get("detail"),
                            source.get("pointer") or pointer)
        return APIError(status, str(reason or f"HTTP {status}"), raw.decode("utf-8", "replace")[:500] or None, pointer)

    def _request(self, method: str, path: str, payload: Any = None, authorized: bool = True) -> JSON:
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        raw = self._send(method, path, body, "application/json" if body is not None else None, authorized)
        parsed = json.loads(raw.decode("utf-8"))
        return parsed["data"] if isinstance(parsed, dict) and "data" in parsed else parsed

    def _multipart(self, path: str, fields: Sequence[Tuple[str, str]], files: Sequence[Tuple[str, str, bytes]]) -> JSON:
        body, content_type = _encode_multipart(fields, files)
        parsed = json.loads(self._send("POST", path, body, content_type).decode("utf-8"))
        return parsed["data"] if isinstance(parsed, dict) and "data" in parsed else parsed

    # ---- the original's methods, in its order ------------------------------------------------------------

    def authorize(self) -> Dict[str, Any]:
        """Exchanges the client id and secret for an access token (done by the constructor)."""
        data = self._request("POST", "/auth/token", {
            "client_id": self.client_id, "client_secret": self.client_secret, "grant_type": "client_credentials",
        }, authorized=False)
        self.access_token = data["access_token"]
        return data

    def activate_license(self, client_id_or_file: FileInput, license_file: Optional[FileInput] = None) -> Dict[str, Any]:
        """Activates a license file. The original took ``(client_id, path)``; ``(path)`` alone works too."""
        name, data = _read_file(license_file if license_file is not None else client_id_or_file)
        return self._multipart("/v1/license", [], [("license", name, data)])

    def get_license(self) -> Dict[str, Any]:
        """The license state (beyond the original): ``{"status": "active" | "missing" | "expired", "client_id",
        "expires_at", "limits", "usage": {"models", "predictions_this_month"}}``."""
        return self._request("GET", "/v1/license")

    def get_version_number(self) -> str:
        return self._request("GET", "/auth/app_version", authorized=False)

    def get_health(self) -> Dict[str, Any]:
        """The server's health (beyond the original; needs no token): ``{"status": "ok", "version", "database":
        "sqlite" | "postgres", "events": "local" | "connected" | "reconnecting", "jobs": {"queued", "running",
        "oldest_queued_seconds"}}``; a server that cannot
        reach its database answers 503 (raised as an error)."""
        return self._request("GET", "/health", authorized=False)

    def get_items(self, status: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None,
                  target: Optional[Union[int, str]] = None) -> Dict[str, Any]:
        """``{"training": [...], "predict": [...], "archived": [...], "summary": {...}}``. The keyword filters are
        beyond the original: ``status`` ("pending" | "done"), ``limit`` / ``cursor`` (``next_cursor``) to page, and
        ``target`` (an inspection target's id or name; default: the default target)."""
        query = urlencode({k: v for k, v in {"target": target, "status": status, "limit": limit, "cursor": cursor}.items() if v is not None})
        return self._request("GET", "/v1/items" + (f"?{query}" if query else ""))

    def get_algorithms(self) -> List[Dict[str, Any]]:
        return self._request("GET", "/v1/algorithms")

    def get_models(self, target: Optional[Union[int, str]] = None) -> List[Dict[str, Any]]:
        """The client's models, or one inspection target's (``target``: its id or name)."""
        return self._request("GET", "/v1/models" + (f"?{urlencode({'target': target})}" if target is not None else ""))

    def delete_models(self, model_ids: Sequence[Union[int, str]]) -> Dict[str, Any]:
        return self._request("DELETE", "/v1/model", {"model_ids": list(model_ids)})

    def train(self, algorithm_id: str, model_name: str, algo_param: Optional[Sequence[Dict[str, Any]]] = None,
              item_ids: Optional[Sequence[str]] = None, target: Optional[Union[int, str]] = None) -> Dict[str, Any]:
        """Starts training; returns the model with status ``creating``. ``algo_param`` is a list of
        ``{"algorithm_parameter_id": id, "value": "..."}``; without ``item_ids`` all training items (of ``target``,
        default: the default target) are used; the model becomes that target's active one."""
        overrides = [{"algorithm_parameter_id": p["algorithm_parameter_id"], "value": str(p["value"])} for p in (algo_param or [])]
        body: Dict[str, Any] = {"algorithm_id": algorithm_id, "name": model_name, "override_params": overrides}
        if item_ids is not None:
            body["item_ids"] = list(item_ids)
        if target is not None:
            body["target"] = target
        return self._request("POST", "/v1/train", body)

    def upload(self, filenames: Union[FileInput, Sequence[FileInput]], is_good: Optional[bool] = None,
               target: Optional[Union[int, str]] = None) -> Dict[str, Any]:
        """Uploads images: ``is_good`` True/False for training, None for prediction, into ``target`` (default: the
        default target). Returns ``{"item_ids": [...]}``."""
        items: Sequence[FileInput] = [filenames] if isinstance(filenames, (str, os.PathLike, tuple)) else list(filenames)
        files = [(f"files[{index}]",) + _read_file(item) for index, item in enumerate(items)]
        fields = [("training", "false" if is_good is None else "true")]
        if is_good is not None:
            fields.append(("good", "true" if is_good else "false"))
        if target is not None:
            fields.append(("target", str(target)))
        return self._multipart("/v1/upload", fields, files)  # type: ignore[arg-type]

    def set_annotations(self, annotations: Sequence[Dict[str, Any]], image_id: Union[int, str]) -> Dict[str, Any]:
        """Replaces an image's annotations: ``[{"x_min", "x_max", "y_min", "y_max", "notes"}]`` in pixels."""
        return self._request("POST", f"/v1/image/{quote(str(image_id), safe='')}/annotation", {"annotations": list(annotations)})

    def get_item(self, item_id: str) -> Dict[str, Any]:
        return self._request("GET", f"/v1/item/{quote(str(item_id), safe='')}")

    def serve(self, item_ids: Sequence[str], model_id: Optional[Union[int, str]] = None,
              target: Optional[Union[int, str]] = None) -> Dict[str, Any]:
        """Queues items for prediction by ``model_id`` or the active model of ``target`` (default: the items'
        target); returns ``{"item_ids", "model_version"}``."""
        body: Dict[str, Any] = {"item_ids": list(item_ids)}
        if model_id is not None:
            body["model_id"] = model_id
        if target is not None:
            body["target"] = target
        return self._request("POST", "/v1/serve", body)

    def get_processes(self, *_ignored: Any) -> Dict[str, List[Any]]:
        """What runs now: ``{"training": [model names], "predicting": [item ids]}``. (The original's reference
        showed arguments here that it never used; they are accepted and ignored.)"""
        return self._request("GET", "/v1/workers")

    # ---- beyond the original -----------------------------------------------------------------------------

    def get_model(self, model_id: Union[int, str]) -> Dict[str, Any]:
        return self._request("GET", f"/v1/models/{quote(str(model_id), safe='')}")

    def export_model(self, model_id: Union[int, str]) -> bytes:
        """The model as one portable file, for ``import_model`` on another installation."""
        return self._send("POST", f"/v1/models/{quote(str(model_id), safe='')}/export")

    def import_model(self, model_file: FileInput, target: Optional[Union[int, str]] = None, trust: bool = False) -> Dict[str, Any]:
        """Installs a model file made by ``export_model``. The server checks its signature: its own exports are
        accepted; a file signed by another installation, or unsigned, only with ``trust=True`` (only when you trust
        where the file comes from). A file changed after export is refused always."""
        name, data = _read_file(model_file)
        fields = [("target", str(target))] if target is not None else []
        if trust:
            fields.append(("trust", "true"))
        return self._multipart("/v1/models/import", fields, [("model", name, data)])

    def update_model(self, model_id: Union[int, str], algo_param: Optional[Sequence[Dict[str, Any]]] = None,
                     params: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """Changes prediction parameters without retraining (threshold, ``min_detected_area``, ``ignore_outer``,
        ...); later predictions use them. Give ``algo_param`` as for ``train`` (``[{"algorithm_parameter_id", "value"}]``)
        and/or ``params`` by name (``{"threshold": 0.6}``), resolved against the model's algorithm. Returns the model."""
        overrides = [{"algorithm_parameter_id": p["algorithm_parameter_id"], "value": p["value"]} for p in (algo_param or [])]
        if params:
            algorithm_id = self.get_model(model_id)["algorithm_id"]
            algorithm = next((a for a in self.get_algorithms() if a["algorithm_id"] == algorithm_id), None)
            by_name = {p["name"]: p["algorithm_parameter_id"] for p in (algorithm or {}).get("parameters", [])}
            unknown = [name for name in params if name not in by_name]
            if unknown:
                raise ValueError(f"{algorithm_id} has no parameter {', '.join(unknown)}; it has {', '.join(sorted(by_name))}")
            overrides += [{"algorithm_parameter_id": by_name[name], "value": value} for name, value in params.items()]
        if not overrides:
            raise ValueError("update_model needs algo_param or params")
        return self._request("PATCH", f"/v1/models/{quote(str(model_id), safe='')}", {"override_params": overrides})

    def inspect(self, filenames: Union[FileInput, Sequence[FileInput]], model_id: Optional[Union[int, str]] = None,
                store: bool = False, target: Optional[Union[int, str]] = None, heatmap: bool = False) -> Dict[str, Any]:
        """Synchronous inspection for a production line: ``{"results": [...], "model_id", "model_version"}`` in
        the answer; nothing is stored unless ``store``. With ``heatmap`` (or ``store``) each result's ``heatmap_url``
        is a PNG the size of the image, kept by the server for 15 minutes (``download_file`` reads it); else None."""
        items: Sequence[FileInput] = [filenames] if isinstance(filenames, (str, os.PathLike, tuple)) else list(filenames)
        files = [(f"files[{index}]",) + _read_file(item) for index, item in enumerate(items)]
        fields = [("model_id", str(model_id))] if model_id is not None else []
        if store:
            fields.append(("store", "true"))
        if heatmap:
            fields.append(("heatmap", "true"))
        if target is not None:
            fields.append(("target", str(target)))
        return self._multipart("/v1/inspect", fields, files)  # type: ignore[arg-type]

    def review_item(self, item_id: str, good: bool) -> Dict[str, Any]:
        """A person's review: confirms (``good`` equal to the verdict) or overrides it; returns the item."""
        return self._request("PATCH", f"/v1/item/{quote(str(item_id), safe='')}", {"good": good})

    def archive_item(self, item_id: str, archived: bool = True) -> Dict[str, Any]:
        """Archives an item (kept, out of the training and predict lists) or, with ``archived=False``, restores it."""
        return self._request("PATCH", f"/v1/item/{quote(str(item_id), safe='')}", {"archived": archived})

    def delete_item(self, item_id: str) -> Dict[str, Any]:
        """Deletes an item with its images and results; ``{"status": "ok"}``."""
        return self._request("DELETE", f"/v1/item/{quote(str(item_id), safe='')}")

    def create_sample_project(self, product: Optional[str] = None, seed: Optional[int] = None,
                              algorithm_id: Optional[str] = None, working_size: Optional[int] = None) -> Dict[str, Any]:
        """Starts the sample project in the target "Kensa demo" (generated images uploaded, a model trained, a
        held-back set predicted); returns its job at once (``job_id``, ``status``, ``step``, ``progress``). While one
        runs, that job is returned instead of a new one. Follow it with ``get_sample_project`` or ``wait_for_sample_project``."""
        body = {k: v for k, v in {"product": product, "seed": seed, "algorithm_id": algorithm_id, "working_size": working_size}.items() if v is not None}
        return self._request("POST", "/v1/samples", body)

    def get_sample_projects(self) -> List[Dict[str, Any]]:
        """This client's sample-project jobs since the server started, newest first."""
        return self._request("GET", "/v1/samples")

    def get_sample_project(self, job_id: str) -> Dict[str, Any]:
        """One sample-project job; when done, ``results`` counts the verdicts against the truth."""
        return self._request("GET", f"/v1/samples/{quote(str(job_id), safe='')}")

    def wait_for_sample_project(self, job_id: str, timeout: float = 600.0, interval: float = 1.0) -> Dict[str, Any]:
        """Polls until the job is done and returns it; raises ``RuntimeError`` if it failed, ``WaitTimeoutError``."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_sample_project(job_id)
            if job["status"] == "done":
                return job
            if job["status"] == "failed":
                raise RuntimeError(f"Sample project {job_id} failed: {job.get('error')}")
            if time.monotonic() >= deadline:
                raise WaitTimeoutError(f"Sample project {job_id} still at {job['step']} after {timeout} s")
            time.sleep(interval)

    def get_targets(self) -> List[Dict[str, Any]]:
        """Inspection targets (product lines), the default one first: ``[{"target_id", "name", "default", ...}]``."""
        return self._request("GET", "/v1/targets")

    def create_target(self, name: str, mqtt_url: Optional[str] = None) -> Dict[str, Any]:
        """Creates an inspection target; ``mqtt_url`` is a broker that receives its finished predictions."""
        body: Dict[str, Any] = {"name": name}
        if mqtt_url is not None:
            body["mqtt_url"] = mqtt_url
        return self._request("POST", "/v1/targets", body)

    def delete_target(self, target: Union[int, str]) -> Dict[str, Any]:
        """Deletes an empty target (by id or name; delete its items and models first); its broker connection closes."""
        return self._request("DELETE", f"/v1/targets/{quote(str(target), safe='')}")

    def register_callback(self, url: str, model_id: Optional[Union[int, str]] = None) -> Dict[str, Any]:
        """A URL that receives each finished prediction (of ``model_id`` only, when given), signed with
        ``X-Kensa-Signature: sha256=<HMAC-SHA256 of the body>``; the answer's ``secret`` is shown this once."""
        body: Dict[str, Any] = {"url": url}
        if model_id is not None:
            body["model_id"] = model_id
        return self._request("POST", "/v1/callbacks", body)

    def get_callbacks(self) -> List[Dict[str, Any]]:
        return self._request("GET", "/v1/callbacks")

    def get_callback_deliveries(self, callback_id: Union[int, str]) -> List[Dict[str, Any]]:
        """The newest deliveries of a callback: ``status`` pending / delivered / failed, ``attempts``, ``last_error``."""
        return self._request("GET", f"/v1/callbacks/{quote(str(callback_id), safe='')}/deliveries")

    def delete_callback(self, callback_id: Union[int, str]) -> Dict[str, Any]:
        return self._request("DELETE", f"/v1/callbacks/{quote(str(callback_id), safe='')}")

    def download_file(self, url: str) -> bytes:
        """Bytes of a file the API links to (``url``, ``raw_url``, ``heatmap_url``), with this client's token."""
        return self._send("GET", url)

    def wait_for_model(self, model_id: Union[int, str], timeout: float = 600.0, interval: float = 1.0,
                       on_progress: Optional[Callable[[Dict[str, Any]], None]] = None) -> Dict[str, Any]:
        """Polls until the model is active and returns it; raises ``ModelFailedError`` or ``WaitTimeoutError``."""
        deadline = time.monotonic() + timeout
        while True:
            model = next((m for m in self.get_models() if str(m["model_id"]) == str(model_id)), None)
            if model is None:
                raise ValueError(f"Model {model_id} no longer exists")
            if on_progress:
                on_progress(model)
            if model["status"] == "active":
                return model
            if model["status"] == "failed":
                raise ModelFailedError(model_id, model.get("status_text"))
            if time.monotonic() >= deadline:
                raise WaitTimeoutError(f"Model {model_id} still {model['status']} after {timeout} s")
            time.sleep(interval)

    def wait_for_items(self, item_ids: Iterable[str], timeout: float = 600.0, interval: float = 1.0) -> List[Dict[str, Any]]:
        """Polls until every item is predicted (``status`` done, no longer running); returns their details in order."""
        ids = list(item_ids)
        deadline = time.monotonic() + timeout
        finished: Dict[str, Dict[str, Any]] = {}
        while True:
            running = {str(i) for i in self.get_processes().get("predicting", [])}
            for item_id in ids:
                if item_id in finished or item_id in running:
                    continue
                detail = self.get_item(item_id)
                if detail.get("status") == "done":
                    finished[item_id] = detail
            if len(finished) == len(set(ids)):
                return [finished[i] for i in ids]
            if time.monotonic() >= deadline:
                waiting = [i for i in ids if i not in finished]
                raise WaitTimeoutError(f"{len(waiting)} item(s) not predicted after {timeout} s: {', '.join(waiting[:5])}")
            time.sleep(interval)
