"""Where the contract tests find Atlassian's files, how copies are checked against their pins, and
what a test does when a file is missing: all on a fake checkout in tmp_path, no network."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.support.contracts import (
    ADF_SCHEMA,
    CONTRACTS,
    CONTRACTS_DIR_ENV,
    OPENAPI_SPEC,
    PINS_FILE,
    REQUIRE_CONTRACTS_ENV,
    Contract,
    ContractDamaged,
    ContractMissing,
    contract_notes,
    find_contract,
    read_pins,
    require_contract,
)

# Stand-ins for the real files: the fake checkout pins exactly these bytes.
PINNED = {ADF_SCHEMA: b'{"stand-in": "adf schema"}\n', OPENAPI_SPEC: b'{"stand-in": "openapi"}\n'}
OTHER = b'{"stand-in": "another version"}\n'


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout at tmp_path/repo with a pins file and nothing beside it; the environment clear."""
    for name in (CONTRACTS_DIR_ENV, REQUIRE_CONTRACTS_ENV, *(c.env for c in CONTRACTS)):
        monkeypatch.delenv(name, raising=False)
    checkout = tmp_path / "repo"
    pins = "".join(f"{_sha256(PINNED[c])}  {c.filename}\n" for c in CONTRACTS)
    _write(checkout / PINS_FILE, f"# pins for the tests\n{pins}".encode())
    return checkout


def _shared(root: Path, contract: Contract, content: bytes) -> Path:
    return _write(root.parent / "shared" / "reference" / contract.filename, content)


def _cached(root: Path, contract: Contract, content: bytes) -> Path:
    return _write(root / ".contracts" / contract.filename, content)


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.filename)
def test_environment_variable_wins(
    root: Path, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file named by the contract's environment variable beats ../shared and the cache."""
    explicit = _write(root.parent / "mine.json", PINNED[contract])
    monkeypatch.setenv(contract.env, str(explicit))
    _shared(root, contract, PINNED[contract])
    _cached(root, contract, PINNED[contract])
    found = find_contract(contract, root)
    assert (found.path, found.source, found.is_pinned) == (explicit, contract.env, True)


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.filename)
def test_shared_reference_comes_next(root: Path, contract: Contract) -> None:
    """Without the variable, ../shared/reference beside the checkout beats the cache."""
    shared = _shared(root, contract, PINNED[contract])
    _cached(root, contract, PINNED[contract])
    assert find_contract(contract, root).path == shared


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.filename)
def test_cache_is_the_last_resort(root: Path, contract: Contract) -> None:
    """On a fresh clone with nothing beside it, the pinned copy in .contracts/ is used."""
    cached = _cached(root, contract, PINNED[contract])
    found = find_contract(contract, root)
    assert (found.path, found.source, found.is_pinned) == (cached, "the cache", True)
    assert require_contract(contract, root) == cached


def test_contracts_dir_variable_moves_the_cache(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KT_JIRA_CONTRACTS_DIR replaces .contracts/ (which is then not looked at)."""
    _cached(root, ADF_SCHEMA, OTHER)
    elsewhere = _write(tmp_path / "cache" / ADF_SCHEMA.filename, PINNED[ADF_SCHEMA])
    monkeypatch.setenv(CONTRACTS_DIR_ENV, str(elsewhere.parent))
    assert find_contract(ADF_SCHEMA, root).path == elsewhere


def test_damaged_cache_copy_fails_naming_the_fix(root: Path) -> None:
    """A cache copy that is not the pinned version fails (never skips), saying to refetch."""
    _cached(root, OPENAPI_SPEC, OTHER)
    with pytest.raises(ContractDamaged, match=_sha256(OTHER)):
        find_contract(OPENAPI_SPEC, root)
    with pytest.raises(pytest.fail.Exception, match="rerun scripts/fetch-contracts"):
        require_contract(OPENAPI_SPEC, root)


@pytest.mark.parametrize("where", ["env", "shared"])
def test_unpinned_chosen_copy_is_used_and_noted(
    root: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another version named by the variable or in ../shared is used, and noted once."""
    if where == "env":
        monkeypatch.setenv(ADF_SCHEMA.env, str(_write(root.parent / "new.json", OTHER)))
    else:
        _shared(root, ADF_SCHEMA, OTHER)
    _cached(root, OPENAPI_SPEC, PINNED[OPENAPI_SPEC])
    used = require_contract(ADF_SCHEMA, root)
    assert used.read_bytes() == OTHER
    (note,) = contract_notes(root)
    assert "ADF JSON schema" in note
    assert _sha256(OTHER) in note
    assert _sha256(PINNED[ADF_SCHEMA]) in note


def test_pinned_copies_need_no_note(root: Path) -> None:
    """Nothing is added to the terminal summary when every copy found is the pinned one."""
    _shared(root, ADF_SCHEMA, PINNED[ADF_SCHEMA])
    _cached(root, OPENAPI_SPEC, PINNED[OPENAPI_SPEC])
    assert contract_notes(root) == []


def test_missing_and_damaged_copies_are_summarised_once(root: Path) -> None:
    """The summary repeats each problem's fix once, however many tests it skipped or failed."""
    _cached(root, OPENAPI_SPEC, OTHER)
    missing, damaged = contract_notes(root)
    assert missing.startswith(f"no copy of {ADF_SCHEMA.title}")
    assert "run scripts/fetch-contracts" in missing
    assert "rerun scripts/fetch-contracts" in damaged


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.filename)
def test_missing_contract_skips_naming_the_fetch_command(root: Path, contract: Contract) -> None:
    """With no copy anywhere the test skips, naming scripts/fetch-contracts and the variable."""
    with pytest.raises(ContractMissing):
        find_contract(contract, root)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_contract(contract, root)
    reason = str(skipped.value)
    assert "run scripts/fetch-contracts" in reason
    assert f"set {contract.env}" in reason
    assert f"{REQUIRE_CONTRACTS_ENV}=1 fails instead" in reason


def test_explicit_path_to_nothing_does_not_fall_back(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A variable naming a missing file skips, saying so, even when ../shared has a copy."""
    monkeypatch.setenv(ADF_SCHEMA.env, str(root / "typo.json"))
    _shared(root, ADF_SCHEMA, PINNED[ADF_SCHEMA])
    expected = re.escape(f"{ADF_SCHEMA.env}={root / 'typo.json'} is not a file")
    with pytest.raises(pytest.skip.Exception, match=expected):
        require_contract(ADF_SCHEMA, root)


def test_required_contracts_fail_instead_of_skipping(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KT_JIRA_REQUIRE_CONTRACTS=1 turns the missing-file skip into a failure with the same fix."""
    monkeypatch.setenv(REQUIRE_CONTRACTS_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="run scripts/fetch-contracts") as failed:
        require_contract(OPENAPI_SPEC, root)
    assert f"{REQUIRE_CONTRACTS_ENV}=1 requires the contracts" in str(failed.value)


def test_repository_pins_both_contracts() -> None:
    """The real pins file has one SHA-256 for each contract, under the names the cache uses."""
    pins = read_pins()
    assert set(pins) == {c.filename for c in CONTRACTS}
    assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in pins.values())
