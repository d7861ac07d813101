"""Every PDF motcua issues is signed here, PAdES (pyHanko), by the issuing agency's certificate; and any PDF
can be checked here: intact or altered, who signed it and when, whether the signer chains to our trust roots.

Key material is the operator's, one folder (MOTCUA_SIGNING_PATH, default <instance>/signing):
  <agency code>.p12   the agency's certificate and key (PKCS#12), e.g. 000.00.30.H99.p12
  <agency code>.pass  its passphrase (or MOTCUA_SIGNING_PASSPHRASE for all); keep both mode 600
  trust/*.pem         the trust roots a signature must chain to (the demo CA; in production the
                      national root CA of the Ban Cơ yếu Chính phủ and the licensed CAs)
A hardware token (USB token, HSM) is pyHanko's PKCS#11 signer (pyhanko.sign.pkcs11.PKCS11Signer): swap
`_signer()` for it; nothing else changes. An agency with no key issues unsigned PDFs (logged)."""

from __future__ import annotations

import asyncio
import io
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
_configured: Path | None = None


T = TypeVar("T")


def _off_loop(work: Callable[[], T]) -> T:
    """pyHanko's synchronous calls run their own asyncio loop; where this thread already runs one (a server or
    a test harness built on asyncio) that is refused, so the call runs on a thread of its own instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def configure(path: Path) -> None:
    """Where the keys are (the app factory and the CLI call this with the instance's folder)."""
    global _configured
    _configured = Path(os.environ.get("MOTCUA_SIGNING_PATH") or path)


def keys_path() -> Path:
    if _configured is not None:
        return _configured
    env = os.environ.get("MOTCUA_SIGNING_PATH")
    return Path(env) if env else Path(os.environ.get("MOTCUA_INSTANCE_PATH", "instance")).resolve() / "signing"


def _key_file(agency: str) -> Path | None:
    safe = agency.replace("/", "_").replace("\\", "_")
    path = keys_path() / f"{safe}.p12"
    return path if safe and not safe.startswith(".") and path.is_file() else None


def _passphrase(key: Path) -> bytes | None:
    side = key.with_suffix(".pass")
    if side.is_file():
        return side.read_text(encoding="utf-8").strip().encode()
    env = os.environ.get("MOTCUA_SIGNING_PASSPHRASE")
    return env.encode() if env else None


_signers: dict[tuple[str, float], object] = {}


def _signer(key: Path):  # noqa: ANN202 — a pyhanko Signer
    from pyhanko.sign import signers

    cache = (str(key), key.stat().st_mtime)
    if cache not in _signers:
        signer = signers.SimpleSigner.load_pkcs12(pfx_file=str(key), passphrase=_passphrase(key))
        if signer is None:
            raise RuntimeError(f"cannot open {key} (wrong passphrase?)")
        _signers[cache] = signer
    return _signers[cache]


def can_sign(agency: str) -> bool:
    return _key_file(agency) is not None


def sign(pdf: bytes, agency: str, reason: str = "Văn bản do cơ quan phát hành") -> bytes:
    """The PDF signed PAdES by `agency`'s key; unchanged (and logged) when that agency has no key."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    key = _key_file(agency)
    if key is None:
        log.warning("no signing key for agency %s in %s: PDF issued unsigned", agency, keys_path())
        return pdf
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    existing = len(writer.prev.embedded_signatures) if hasattr(writer, "prev") else 0
    meta = signers.PdfSignatureMetadata(field_name=f"motcua{existing + 1}", md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES, reason=reason, location="Việt Nam")
    return _off_loop(lambda: signers.sign_pdf(writer, meta, signer=_signer(key)).getvalue())


# --- verification ------------------------------------------------------------------------------------


@dataclass
class Verdict:
    """What /xac-thuc says about a PDF."""

    signed: bool
    intact: bool = False          # the signed bytes are unchanged and the signature is mathematically valid
    covers_whole_file: bool = False  # nothing was added after the (last) signature
    trusted: bool = False         # the signer chains to a configured trust root
    signer: str | None = None     # the certificate's subject (organisation, common name)
    signed_at: datetime | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.covers_whole_file and self.trusted


def trust_roots() -> list:
    from asn1crypto import pem, x509

    roots = []
    folder = keys_path() / "trust"
    for path in sorted(folder.glob("*.pem")) if folder.is_dir() else []:
        for _kind, _headers, der in pem.unarmor(path.read_bytes(), multiple=True):
            roots.append(x509.Certificate.load(der))
    return roots


def verify(pdf: bytes) -> Verdict:
    """Check the last signature of a PDF (a motcua PDF carries one per issuing agency)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as e:  # noqa: BLE001 — any damage that stops the PDF from being read is an alteration
        return Verdict(signed=False, problem=f"Tệp PDF bị hỏng hoặc đã bị thay đổi ({type(e).__name__})")
    if not signatures:
        return Verdict(signed=False, problem="Tệp không có chữ ký số")
    sig = signatures[-1]
    roots = trust_roots()
    if not _unsigned_parts_untouched(pdf, sig):
        return Verdict(signed=True, problem="Tệp đã bị thay đổi sau khi ký")
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    try:
        status = _off_loop(lambda: validate_pdf_signature(sig, context, key_usage_settings=KeyUsageConstraints()))
    except (SigningError, ValueError, KeyError, TypeError) as e:
        return Verdict(signed=True, problem=f"Chữ ký không kiểm tra được: {e}")
    except Exception as e:  # noqa: BLE001 — a corrupted signature must answer "altered", never a 500
        return Verdict(signed=True, problem=f"Chữ ký không kiểm tra được: {type(e).__name__}")
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    cert = status.signing_cert
    subject = cert.subject.native if cert is not None else {}
    who = ", ".join(str(subject[k]) for k in ("organization_name", "common_name") if subject.get(k)) or None
    verdict = Verdict(signed=True, intact=bool(status.intact and status.valid),
                      covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
                      trusted=bool(status.trusted), signer=who, signed_at=status.signer_reported_dt)
    if verdict.trusted and not _bag_is_the_path(sig, status):
        verdict.intact = False
    if not verdict.intact:
        verdict.problem = "Tệp đã bị thay đổi sau khi ký"
    elif not verdict.covers_whole_file:
        verdict.problem = "Tệp có nội dung thêm vào sau khi ký"
    elif not verdict.trusted:
        verdict.problem = "Người ký không thuộc chuỗi chứng thư tin cậy đã cấu hình"
    return verdict


def _unsigned_parts_untouched(pdf: bytes, sig) -> bool:  # noqa: ANN001 — EmbeddedPdfSignature
    """PAdES signs every byte but the /Contents hole, and inside the CMS not every field is signed (the
    digest algorithm list, the certificate bag). A changed byte there is still a changed file: the hole must be
    hex digits only, holding exactly one canonically (DER) encoded SignedData and zero padding, whose unsigned
    fields say only what its signer info says."""
    from asn1crypto import cms

    try:
        start, first_len, second_start, _second_len = (int(x) for x in sig.byte_range)
        hole = pdf[start + first_len:second_start].strip()
        if not (hole.startswith(b"<") and hole.endswith(b">")) or \
                any(ch not in b"0123456789abcdefABCDEF" for ch in hole[1:-1]):
            return False
        contents = bytes(sig.sig_object["/Contents"])
        end = _der_end(contents)
        if end is None or any(contents[end:]):
            return False
        info = cms.ContentInfo.load(contents[:end], strict=True)
        if info.dump(force=True) != contents[:end] or info["content_type"].native != "signed_data":
            return False
        signed = info["content"]
        signers = signed["signer_infos"]
        if len(signers) != 1 or signed["encap_content_info"]["content"].native is not None:
            return False
        used = {signers[0]["digest_algorithm"].dump()}
        if {a.dump() for a in signed["digest_algorithms"]} != used:
            return False
    except Exception:  # noqa: BLE001 — unreadable is altered
        return False
    return True


def _bag_is_the_path(sig, status) -> bool:  # noqa: ANN001
    """Every certificate carried in the signature is on the chain that was validated (or no chain at all)."""
    try:
        path = status.validation_path
        known = {c.dump() for c in path} if path is not None else set()
        known.add(status.signing_cert.dump())
        return all(c.chosen.dump() in known for c in sig.signed_data["certificates"] or [])
    except Exception:  # noqa: BLE001
        return False


def _der_end(contents: bytes) -> int | None:
    if len(contents) < 2 or contents[0] != 0x30:
        return None
    first = contents[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    end = 2 + count + int.from_bytes(contents[2:2 + count], "big")
    return end if end <= len(contents) else None


def is_validly_signed(pdf: bytes) -> bool:
    return verify(pdf).ok


# --- the demo CA ----------------------------------------------------------------------------------------


def make_demo_keys(agencies: dict[str, str], folder: Path | None = None, passphrase: str = "motcua-demo") -> list[str]:
    """A demo CA (trust/demo-ca.pem) and one PKCS#12 per agency {agency code: name}; idempotent."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    folder = folder or keys_path()
    (folder / "trust").mkdir(parents=True, exist_ok=True)
    ca_key_path, ca_cert_path = folder / "demo-ca.key", folder / "trust" / "demo-ca.pem"
    made: list[str] = []
    start, end = datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=3650)
    if ca_key_path.exists() and ca_cert_path.exists():
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "motcua demo"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "motcua Demo Root CA")])
        ca_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(ca_key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                                key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                key_cert_sign=True, crl_sign=True, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
                   .sign(ca_key, hashes.SHA256()))
        ca_key_path.write_bytes(ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
        ca_key_path.chmod(0o600)
        ca_cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        made.append("demo CA")
    for agency, org_name in agencies.items():
        p12 = folder / f"{agency}.p12"
        if p12.exists():
            continue
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, org_name),
                             x509.NameAttribute(NameOID.COMMON_NAME, agency)])
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        blob = pkcs12.serialize_key_and_certificates(
            agency.encode(), key, cert, [ca_cert], serialization.BestAvailableEncryption(passphrase.encode()))
        p12.write_bytes(blob)
        p12.chmod(0o600)
        pw = p12.with_suffix(".pass")
        pw.write_text(passphrase, encoding="utf-8")
        pw.chmod(0o600)
        made.append(f"certificate {agency}")
    return made
