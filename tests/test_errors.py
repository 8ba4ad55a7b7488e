"""Every error path answers the one error shape, in French, naming its parameter."""

from __future__ import annotations

import pytest

ERROR_CASES = [
    # (method, path, params, status, error code, params named in details)
    ("GET", "/api/v1/metiers", {}, 400, "invalid_parameters", ["q"]),
    ("GET", "/api/v1/metiers", {"q": "b"}, 400, "invalid_parameters", ["q"]),
    ("GET", "/api/v1/metiers", {"q": "  é "}, 400, "invalid_parameters", ["q"]),
    ("GET", "/api/v1/metiers", {"q": "x" * 101}, 400, "invalid_parameters", ["q"]),
    ("GET", "/api/v1/metiers", {"q": "boul", "limit": "50"}, 400, "invalid_parameters", ["limit"]),
    ("GET", "/api/v1/metiers", {"q": "boul", "limit": "abc"}, 400, "invalid_parameters", ["limit"]),
    ("GET", "/api/v1/metiers", {"q": "boul", "rome": "D1102"}, 400, "invalid_parameters", ["rome"]),
    ("GET", "/api/v1/communes", {}, 400, "invalid_parameters", ["q"]),
    ("GET", "/api/v1/communes", {"q": "1234567"}, 400, "invalid_parameters", ["q"]),
    ("GET", "/api/v1/communes/reverse", {}, 400, "invalid_parameters", ["latitude", "longitude"]),
    ("GET", "/api/v1/communes/reverse", {"latitude": "91", "longitude": "2"}, 400, "invalid_parameters", ["latitude"]),
    ("GET", "/api/v1/communes/reverse", {"latitude": "45", "longitude": "-181"}, 400, "invalid_parameters", ["longitude"]),
    ("GET", "/api/v1/communes/reverse", {"latitude": "nan", "longitude": "inf"}, 400, "invalid_parameters", ["latitude", "longitude"]),
    ("GET", "/api/v1/communes/reverse", {"lat": "45", "latitude": "45", "lon": "4"}, 400, "invalid_parameters", ["lat"]),
    ("GET", "/api/v1/nope", {}, 404, "not_found", []),
    ("POST", "/api/v1/metiers", {"q": "boul"}, 405, "method_not_allowed", []),
    ("DELETE", "/healthz", {}, 405, "method_not_allowed", []),
]


def assert_error_shape(response, status):
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    for detail in error["details"]:
        assert set(detail) == {"param", "code", "message"}
        assert detail["param"] and detail["code"]
        # Every detail message names its parameter, so it reads on its own.
        assert detail["param"] in detail["message"]
    return error


@pytest.mark.parametrize("method,path,params,status,code,named", ERROR_CASES)
def test_error_shape(client, method, path, params, status, code, named):
    response = client.request(method, path, params=params)
    error = assert_error_shape(response, status)
    assert error["code"] == code
    assert [d["param"] for d in error["details"]] == named


def test_all_parameter_errors_come_back_together(client):
    r = client.get("/api/v1/communes/reverse", params={"latitude": "x", "longitude": "999", "foo": "1"})
    error = assert_error_shape(r, 400)
    assert {d["param"] for d in error["details"]} == {"latitude", "longitude", "foo"}


def test_405_says_which_method_to_use(client):
    r = client.post("/api/v1/communes", params={"q": "lyon"})
    assert "GET" in r.headers["allow"]
    assert "GET" in r.json()["error"]["message"]


def test_messages_are_french(client):
    r = client.get("/api/v1/metiers")
    assert "obligatoire" in r.json()["error"]["details"][0]["message"]
