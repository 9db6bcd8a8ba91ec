"""The Python SDK against a live Kensa server: the whole life and every documented error.

Run by ``packages/cli/test/python-sdk.test.ts`` (inside ``npm test``), which starts the server and passes its
address and credentials in the environment. Tests are numbered because each builds on the one before.
"""
import os
import re
import shutil
import tempfile
import unittest
from typing import Any, Dict, List

from kensa import APIError, VisualInspectionSDK
from kensa.errors import APIError as ErrorsAPIError

ENV = os.environ
REQUIRED = ["KENSA_API_URL", "KENSA_CLIENT_ID", "KENSA_CLIENT_SECRET", "KENSA_COOKIES_DIR"]
PNG_SIGNATURE = b"\x89PNG"


def cookie(split: str, name: str) -> str:
    return os.path.join(ENV["KENSA_COOKIES_DIR"], split, name)


@unittest.skipUnless(all(ENV.get(k) for k in REQUIRED), "needs a live server: run through npm test")
class LiveServerTest(unittest.TestCase):
    sdk: VisualInspectionSDK
    training_ids: List[str] = []
    image_id: Any = None
    model: Dict[str, Any] = {}

    @classmethod
    def setUpClass(cls) -> None:
        cls.sdk = VisualInspectionSDK(ENV["KENSA_CLIENT_ID"], ENV["KENSA_CLIENT_SECRET"], ENV["KENSA_API_URL"])
        cls.work = tempfile.mkdtemp(prefix="kensa-py-")

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.work, ignore_errors=True)

    def assertApiError(self, error: APIError, status: int, title: str) -> None:
        self.assertEqual((error.status, error.title), (status, title))
        self.assertEqual(str(error), f"{title} ({status})")

    def test_01_authorization_errors(self) -> None:
        self.assertIs(APIError, ErrorsAPIError)
        with self.assertRaises(APIError) as unknown:
            VisualInspectionSDK("nobody", "x", ENV["KENSA_API_URL"])
        self.assertApiError(unknown.exception, 401, "Cannot find client information")
        self.assertEqual(unknown.exception.pointer, "/api/auth/token")
        with self.assertRaises(APIError) as mismatch:
            VisualInspectionSDK(ENV["KENSA_CLIENT_ID"], "wrong", ENV["KENSA_API_URL"])
        self.assertApiError(mismatch.exception, 401, "Client id and secret mismatch")

    def test_02_version_and_reauthorization(self) -> None:
        self.assertRegex(self.sdk.get_version_number(), r"^\d+\.\d+")
        health = self.sdk.get_health()
        self.assertEqual(health["status"], "ok")
        self.assertIn(health["database"], ("sqlite", "postgres"))
        self.assertGreaterEqual(health["jobs"]["queued"], 0)
        self.sdk.access_token = "expired-or-forged"  # the server refuses it: the SDK authorizes again, once
        self.assertIsInstance(self.sdk.get_models(), list)
        self.assertNotEqual(self.sdk.access_token, "expired-or-forged")

    def test_03_upload_training_images(self) -> None:
        good = self.sdk.upload([cookie("train/good", "normal-1.jpg"), cookie("train/good", "normal-2.jpg")], True)
        self.assertEqual(good["item_ids"], ["normal-1", "normal-2"])
        with open(cookie("train/good", "normal-3.jpg"), "rb") as handle:
            as_bytes = self.sdk.upload([("normal-3.jpg", handle.read())], is_good=True)
        defect = self.sdk.upload(cookie("test/defect", "anomaly-1.jpg"), False)
        LiveServerTest.training_ids = good["item_ids"] + as_bytes["item_ids"] + defect["item_ids"]
        items = self.sdk.get_items()
        self.assertLessEqual({"training", "predict", "archived", "summary"}, set(items))
        training = {i["item_id"]: i for i in items["training"]}
        self.assertTrue(training["normal-3"]["good"])
        self.assertFalse(training["anomaly-1"]["good"])

    def test_04_annotations(self) -> None:
        image = self.sdk.get_item("anomaly-1")["images"][0]
        LiveServerTest.image_id = image["image_id"]
        self.assertEqual(self.sdk.set_annotations([{"x_min": 10, "x_max": 60, "y_min": 20, "y_max": 90, "notes": "chip"}], image["image_id"]), {"status": "ok"})
        boxes = self.sdk.get_item("anomaly-1")["images"][0]["annotations"]
        self.assertEqual([(b["x_min"], b["x_max"], b["y_min"], b["y_max"], b["notes"]) for b in boxes], [(10, 60, 20, 90, "chip")])

    def test_05_train_and_wait(self) -> None:
        algorithms = {a["algorithm_id"]: a for a in self.sdk.get_algorithms()}
        algorithm_id = "PM" if "PM" in algorithms else next(iter(algorithms))
        working_size = next(p for p in algorithms[algorithm_id]["parameters"] if p["name"] == "working_size")
        algo_param = [{"algorithm_parameter_id": working_size["algorithm_parameter_id"], "value": "64"}]
        created = self.sdk.train(algorithm_id, "python-life", algo_param, self.training_ids)
        self.assertEqual(created["status"], "creating")
        seen: List[str] = []
        LiveServerTest.model = self.sdk.wait_for_model(created["model_id"], timeout=120, interval=0.25, on_progress=lambda m: seen.append(m["status"]))
        self.assertEqual(self.model["status"], "active")
        self.assertTrue(seen)
        active = [m for m in self.sdk.get_models() if m["active"]]
        self.assertEqual([m["model_id"] for m in active], [self.model["model_id"]])
        processes = self.sdk.get_processes(["ignored"], "ignored")  # the original's reference passed these
        self.assertEqual(set(processes), {"training", "predicting"})

    def test_06_serve_and_read_results(self) -> None:
        uploaded = self.sdk.upload([cookie("test/defect", "anomaly-2.jpg"), cookie("test/good", "test-normal-1.jpg")])
        self.assertEqual(uploaded["item_ids"], ["anomaly-2", "test-normal-1"])
        served = self.sdk.serve(uploaded["item_ids"], self.model["model_id"])
        self.assertEqual(served["model_version"], self.model["version"])
        details = self.sdk.wait_for_items(served["item_ids"], timeout=120, interval=0.25)
        for detail in details:
            self.assertEqual(detail["status"], "done")
            self.assertIsInstance(detail["computed_assessment"]["good"], bool)
            overlay = self.sdk.download_file(detail["images"][0]["url"])
            self.assertEqual(overlay[:4], PNG_SIGNATURE)
        predicted = {i["item_id"]: i for i in self.sdk.get_items()["predict"]}
        self.assertEqual(predicted["anomaly-2"]["status"], "done")

    def test_07_item_and_upload_errors(self) -> None:
        with self.assertRaises(APIError) as missing:
            self.sdk.get_item("no-such-item")
        self.assertApiError(missing.exception, 404, "No match for item_id!")
        other = VisualInspectionSDK(ENV["KENSA_OTHER_CLIENT_ID"], ENV["KENSA_OTHER_CLIENT_SECRET"], ENV["KENSA_API_URL"])
        with self.assertRaises(APIError) as foreign:
            other.get_item("normal-1")
        self.assertApiError(foreign.exception, 401, "No permission to view item!")
        with self.assertRaises(APIError) as bad_name:
            self.sdk.upload([("bad name!.jpg", b"\xff\xd8\xff")])
        self.assertApiError(bad_name.exception, 400, "Invalid Request")
        self.assertTrue(any("bad name!.jpg" in d for d in bad_name.exception.detail or []), bad_name.exception.detail)
        with self.assertRaises(APIError) as none:
            self.sdk.upload([])
        self.assertApiError(none.exception, 400, "No images to upload")
        with self.assertRaises(APIError) as no_image:
            self.sdk.set_annotations([{"x_min": 1, "x_max": 2, "y_min": 1, "y_max": 2}], 987654)
        self.assertApiError(no_image.exception, 400, "Cannot find image")
        with self.assertRaises(APIError) as inverted:
            self.sdk.set_annotations([{"x_min": 50, "x_max": 10, "y_min": 0, "y_max": 5}], self.image_id)
        self.assertEqual(inverted.exception.status, 400)
        japanese = VisualInspectionSDK(ENV["KENSA_CLIENT_ID"], ENV["KENSA_CLIENT_SECRET"], ENV["KENSA_API_URL"], language="ja")
        with self.assertRaises(APIError) as ja:
            japanese.get_item("no-such-item")
        self.assertEqual(ja.exception.status, 404)
        self.assertRegex(ja.exception.title, r"[\u3040-\u30ff\u4e00-\u9fff]")

    def test_08_model_training_and_serving_errors(self) -> None:
        with self.assertRaises(APIError) as no_models:
            self.sdk.delete_models([987654])
        # The original's answer: an empty title, the reason as detail (which then heads the text).
        self.assertEqual((no_models.exception.status, no_models.exception.title, no_models.exception.detail), (404, "", "No model found"))
        self.assertEqual(str(no_models.exception), "No model found (404)")
        other = VisualInspectionSDK(ENV["KENSA_OTHER_CLIENT_ID"], ENV["KENSA_OTHER_CLIENT_SECRET"], ENV["KENSA_API_URL"])
        with self.assertRaises(APIError) as theft:
            other.train(self.model["algorithm_id"], "theft", [], ["normal-1"])
        self.assertApiError(theft.exception, 403, "You do not have access to one or more item ids provided")
        with self.assertRaises(APIError) as malformed:
            self.sdk.train(self.model["algorithm_id"], "bad", [{"algorithm_parameter_id": 987654, "value": "1"}])
        self.assertEqual(malformed.exception.status, 400)
        with self.assertRaises(APIError) as no_items:
            self.sdk.serve(["no-such-item"])
        self.assertApiError(no_items.exception, 404, "Cannot find items")
        own = other.upload([cookie("test/good", "test-normal-2.jpg")])
        with self.assertRaises(APIError) as no_model:
            other.serve(own["item_ids"])
        self.assertApiError(no_model.exception, 400, "There is no available model")

    def test_09_license(self) -> None:
        new = VisualInspectionSDK(ENV["KENSA_NEW_CLIENT_ID"], ENV["KENSA_NEW_CLIENT_SECRET"], ENV["KENSA_API_URL"])
        missing = new.get_license()
        self.assertEqual((missing["status"], missing["client_id"], missing["expires_at"]), ("missing", ENV["KENSA_NEW_CLIENT_ID"], None))
        with self.assertRaises(APIError) as unlicensed:
            new.train(self.model["algorithm_id"], "no-license", [])
        self.assertApiError(unlicensed.exception, 403, "Invalid license!")
        self.assertEqual(unlicensed.exception.detail, "No active license")
        forged = os.path.join(self.work, "forged.license")
        with open(forged, "w") as handle:
            handle.write('{"client_id": "py-new"}')
        with self.assertRaises(APIError) as invalid:
            new.activate_license(forged)
        self.assertApiError(invalid.exception, 403, "Invalid license!")
        # The original's call shape: (client_id, path).
        self.assertEqual(new.activate_license(ENV["KENSA_NEW_CLIENT_ID"], ENV["KENSA_NEW_LICENSE_FILE"]), {"status": "ok"})
        active = new.get_license()
        self.assertEqual(active["status"], "active")
        self.assertIsInstance(active["expires_at"], str)
        self.assertEqual(active["usage"]["models"], 0)
        with self.assertRaises(APIError) as again:
            new.activate_license(ENV["KENSA_NEW_LICENSE_FILE"])
        self.assertApiError(again.exception, 403, "Invalid license!")
        self.assertEqual(again.exception.detail, "License already exists")

    def test_10_beyond_the_original(self) -> None:
        detail = self.sdk.get_model(self.model["model_id"])
        self.assertEqual(detail["model_id"], self.model["model_id"])
        exported = self.sdk.export_model(self.model["model_id"])
        self.assertGreater(len(exported), 100)
        other = VisualInspectionSDK(ENV["KENSA_OTHER_CLIENT_ID"], ENV["KENSA_OTHER_CLIENT_SECRET"], ENV["KENSA_API_URL"])
        imported = other.import_model(("python-life.kensa", exported))
        self.assertEqual(imported["status"], "active")
        answer = other.inspect([cookie("test/defect", "anomaly-3.jpg")], model_id=imported["model_id"])
        self.assertEqual([r["file_name"] for r in answer["results"]], ["anomaly-3.jpg"])
        self.assertIsInstance(answer["results"][0]["good"], bool)
        verdict = self.sdk.get_item("anomaly-2")["computed_assessment"]["good"]
        reviewed = self.sdk.review_item("anomaly-2", not verdict)
        self.assertEqual(reviewed["manual_assessment"]["good"], not verdict)
        page = self.sdk.get_items(limit=1)
        self.assertEqual(len(page["training"]) + len(page["predict"]) + len(page["archived"]), 1)
        self.assertIsInstance(page["next_cursor"], str)

    def test_10b_targets_and_callbacks(self) -> None:
        default = self.sdk.get_targets()[0]
        self.assertTrue(default["default"])
        line = self.sdk.create_target("py-line")
        self.assertFalse(line["default"])
        uploaded = self.sdk.upload([cookie("train/good", "normal-8.jpg"), cookie("train/good", "normal-9.jpg")], True, target="py-line")
        line_items = self.sdk.get_items(target=line["target_id"])
        self.assertEqual(sorted(i["item_id"] for i in line_items["training"]), sorted(uploaded["item_ids"]))
        self.assertEqual(line_items["summary"]["title"], "py-line")
        self.assertNotIn("normal-8", [i["item_id"] for i in self.sdk.get_items()["training"]])
        algorithm = next(a for a in self.sdk.get_algorithms() if a["algorithm_id"] == self.model["algorithm_id"])
        working_size = next(p for p in algorithm["parameters"] if p["name"] == "working_size")
        created = self.sdk.train(self.model["algorithm_id"], "py-line-model", [{"algorithm_parameter_id": working_size["algorithm_parameter_id"], "value": "64"}],
                                 target="py-line")
        self.assertEqual(created["target_id"], line["target_id"])
        self.assertEqual(self.sdk.wait_for_model(created["model_id"], timeout=120, interval=0.25)["status"], "active")
        self.assertEqual([m["model_id"] for m in self.sdk.get_models(target="py-line")], [created["model_id"]])
        callback = self.sdk.register_callback("http://127.0.0.1:9/unreachable", model_id=created["model_id"])
        self.assertIsInstance(callback["secret"], str)
        self.assertEqual(self.sdk.get_callback_deliveries(callback["callback_id"]), [])
        self.assertEqual(self.sdk.get_callbacks()[0]["deliveries"], {"pending": 0, "delivered": 0, "failed": 0})
        self.assertEqual(self.sdk.delete_callback(callback["callback_id"]), {"status": "ok"})
        with self.assertRaises(APIError) as busy:
            self.sdk.delete_target("py-line")
        self.assertEqual(busy.exception.status, 409)
        empty = self.sdk.create_target("py-empty")
        self.assertEqual(self.sdk.delete_target(empty["target_id"]), {"status": "ok"})
        self.assertNotIn("py-empty", [t["name"] for t in self.sdk.get_targets()])

    def test_10c_update_model_heatmaps_archive_and_delete_items(self) -> None:
        model_id = self.model["model_id"]
        defect = cookie("test/defect", "anomaly-4.jpg")
        lenient = self.sdk.update_model(model_id, params={"threshold": 1e6})
        self.assertEqual(next(p for p in lenient["parameters"] if p["name"] == "threshold")["value"], "1000000")
        self.assertTrue(self.sdk.inspect(defect, model_id=model_id)["results"][0]["good"])
        threshold_id = next(p for p in lenient["parameters"] if p["name"] == "threshold")["algorithm_parameter_id"]
        self.sdk.update_model(model_id, [{"algorithm_parameter_id": threshold_id, "value": 1e-6}])
        strict = self.sdk.inspect(defect, model_id=model_id, heatmap=True)["results"][0]
        self.assertFalse(strict["good"])
        self.assertEqual(self.sdk.download_file(strict["heatmap_url"])[:4], PNG_SIGNATURE)
        self.assertIsNone(self.sdk.inspect(defect, model_id=model_id)["results"][0]["heatmap_url"])
        with self.assertRaises(APIError) as training_parameter:
            self.sdk.update_model(model_id, params={"working_size": 128})  # needs a new model
        self.assertEqual(training_parameter.exception.status, 400)
        with self.assertRaises(ValueError):
            self.sdk.update_model(model_id, params={"no_such_parameter": 1})
        with self.assertRaises(ValueError):
            self.sdk.update_model(model_id)

        uploaded = self.sdk.upload(cookie("test/good", "test-normal-3.jpg"))["item_ids"]
        self.assertEqual(uploaded, ["test-normal-3"])
        self.sdk.archive_item("test-normal-3")
        lists = self.sdk.get_items()
        self.assertIn("test-normal-3", [i["item_id"] for i in lists["archived"]])
        self.assertNotIn("test-normal-3", [i["item_id"] for i in lists["predict"]])
        self.sdk.archive_item("test-normal-3", archived=False)
        self.assertIn("test-normal-3", [i["item_id"] for i in self.sdk.get_items()["predict"]])
        self.assertEqual(self.sdk.delete_item("test-normal-3"), {"status": "ok"})
        with self.assertRaises(APIError) as gone:
            self.sdk.get_item("test-normal-3")
        self.assertEqual(gone.exception.status, 404)

    def test_11_delete_model(self) -> None:
        self.assertEqual(self.sdk.delete_models([self.model["model_id"]]), {"status": "ok"})
        self.assertNotIn(self.model["model_id"], [m["model_id"] for m in self.sdk.get_models()])


    def test_12_sample_project(self) -> None:
        started = self.sdk.create_sample_project(working_size=64, seed=7)
        self.assertIn(started["status"], ("running", "done"))
        self.assertEqual(self.sdk.create_sample_project()["job_id"], started["job_id"], "one job at a time")
        self.assertEqual(self.sdk.get_sample_projects()[0]["job_id"], started["job_id"])
        job = self.sdk.wait_for_sample_project(started["job_id"], timeout=240, interval=0.5)
        self.assertEqual((job["step"], job["progress"]), ("done", 1))
        self.assertEqual(job["seed"], 7)
        results = job["results"]
        self.assertEqual(results["defective"] + results["good"], len(job["item_ids"]))
        demo = next(t for t in self.sdk.get_targets() if t["target_id"] == job["target_id"])
        self.assertEqual([m["model_id"] for m in self.sdk.get_models(target=demo["target_id"])], [job["model_id"]])
        with self.assertRaises(APIError) as unknown:
            self.sdk.get_sample_project("no-such-job")
        self.assertEqual(unknown.exception.status, 404)
        with self.assertRaises(APIError) as bad:
            self.sdk.create_sample_project(product="glass")
        self.assertEqual(bad.exception.status, 400)


class OfflineTest(unittest.TestCase):
    """What needs no server: the error's text and the multipart encoding."""

    def test_error_text_matches_the_original(self) -> None:
        error = APIError(404, "No match for item_id!", None, "/api/v1/item/x")
        self.assertEqual(str(error), "No match for item_id! (404)")
        self.assertIn("pointer='/api/v1/item/x'", repr(error))
        self.assertEqual(str(APIError(404, "", "No model found", "/api/v1/model")), "No model found (404)")

    def test_source_is_python_3_9(self) -> None:
        import ast
        import pathlib
        package = pathlib.Path(__file__).resolve().parent.parent / "kensa"
        for path in sorted(package.glob("*.py")):
            ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 9))

    def test_multipart_encoding(self) -> None:
        from kensa.sdk import _encode_multipart
        body, content_type = _encode_multipart([("training", "true")], [("files[0]", "a.png", b"\x89PNG")])
        boundary = re.search(r"boundary=(\S+)", content_type).group(1)  # type: ignore[union-attr]
        self.assertTrue(body.startswith(f"--{boundary}\r\n".encode()))
        self.assertIn(b'name="files[0]"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n', body)
        self.assertTrue(body.endswith(f"--{boundary}--\r\n".encode()))


if __name__ == "__main__":
    unittest.main()
