"""The IETF Token Status List: SD-JWT VCs name it, offline verifiers read revocation and suspension from it."""

from __future__ import annotations

import base64
import json
import zlib

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.credentials.test_issue_and_verify import published
from tests.credentials.test_status import issue, market, reviewer  # noqa: F401 (fixtures)
from tongban.credentials import sdjwt
from tongban.credentials import services as credentials
from tongban.credentials.status import (
    MINIMUM_BITS,
    decode_token_list,
    encode_token_list,
    token_status,
)
from tongban.credentials.verify import token_status_from_lists

pytestmark = pytest.mark.django_db


def fetch_from_api(url: str) -> str:
    path = url.split("127.0.0.1:8000", 1)[1]
    response = Client().get(path)
    assert response.status_code == 200 and response["Content-Type"] == "application/statuslist+jwt"
    return response.content.decode()


def offline_verdict(licence, fetch=fetch_from_api) -> str:
    # A relying party with the holder's whole SD-JWT, the published keys and CA, fetching the list by its URI.
    keys = published()
    status_of = token_status_from_lists(fetch, **keys)
    return sdjwt.verify(licence.sd_jwt, status_of=status_of, **keys).outcome


def test_the_first_byte_follows_the_drafts_example():
    # draft-ietf-oauth-status-list, 1-bit example: statuses 1,0,0,1,1,1,0,1 make the byte 0xB9
    statuses = {index: 1 for index, value in enumerate([1, 0, 0, 1, 1, 1, 0, 1]) if value}

    data = decode_token_list(encode_token_list(statuses, bits=1))

    assert data[0] == 0xB9 and len(data) * 8 == MINIMUM_BITS


@given(st.dictionaries(st.integers(0, 200_000), st.integers(0, 3), max_size=30))
def test_two_bit_statuses_read_back_as_written(statuses):
    data = decode_token_list(encode_token_list(statuses))

    assert all(token_status(data, index) == statuses.get(index, 0) for index in [*statuses, 0, 7, MINIMUM_BITS - 1])


def test_the_sd_jwt_names_its_place_in_the_issuers_token_status_list(market, reviewer):  # noqa: F811
    licence = issue(market, reviewer)

    claims = json.loads(base64.urlsafe_b64decode(licence.sd_jwt.split(".")[1] + "=="))

    assert claims["status"]["status_list"] == {
        "idx": licence.status_index,
        "uri": f"http://127.0.0.1:8000/api/v1/credentials/status/{market.uscc}/token",
    }
    listed = json.loads(base64.urlsafe_b64decode(fetch_from_api(claims["status"]["status_list"]["uri"])
                                                 .split(".")[1] + "=="))
    assert listed["sub"] == claims["status"]["status_list"]["uri"] and listed["status_list"]["bits"] == 2
    assert len(zlib.decompress(base64.urlsafe_b64decode(listed["status_list"]["lst"] + "=="))) * 4 >= MINIMUM_BITS


def test_an_offline_verifier_sees_suspension_reinstatement_and_revocation(market, reviewer):  # noqa: F811
    licence, other = issue(market, reviewer), issue(market, reviewer)
    assert offline_verdict(licence) == "valid"

    credentials.suspend_licence(licence, actor=reviewer, reason="Under investigation")
    assert offline_verdict(licence) == "suspended" and offline_verdict(other) == "valid"

    credentials.reinstate_licence(licence, actor=reviewer, reason="Investigation closed")
    assert offline_verdict(licence) == "valid"

    credentials.revoke_licence(licence, actor=reviewer, reason="Business deregistered")
    assert offline_verdict(licence) == "revoked" and offline_verdict(other) == "valid"


def test_a_tampered_or_foreign_list_makes_the_status_unknown(market, reviewer):  # noqa: F811
    licence = issue(market, reviewer)
    genuine = fetch_from_api(f"http://127.0.0.1:8000/api/v1/credentials/status/{market.uscc}/token")
    header, payload, signature = genuine.split(".")
    listed = json.loads(base64.urlsafe_b64decode(payload + "=="))
    listed["status_list"]["lst"] = encode_token_list({licence.status_index: 0})
    forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(listed).encode()).rstrip(b"=").decode(),
                       signature])
    # the issuer's own Bitstring revocation list, signed but not a token status list
    bitstring = credentials.status_list_credential(market.uscc, "revocation")

    assert offline_verdict(licence, fetch=lambda url: forged) == "status_unknown"
    assert bitstring and offline_verdict(licence, fetch=lambda url: bitstring) == "status_unknown"
    assert offline_verdict(licence, fetch=lambda url: genuine) == "valid"


def test_a_share_opened_after_suspension_says_suspended(married_holder):
    # given a share of a marriage certificate the issuer then suspends
    account, licence, issuer = married_holder
    _share, token = credentials.share_licence(licence, actor=account, fields=["registered_on"], duration="1d")
    credentials.suspend_licence(licence, actor=issuer, reason="Under review")

    # then the page's offline check of the SD-JWT against the token list says so
    assert credentials.open_share(token).outcome == "suspended"
