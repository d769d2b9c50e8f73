"""Files people upload (an applicant's materials): checked by content, bounded in size, scanned.

``check_upload`` reads an uploaded file once and refuses it, with a reason a
person can act on, when it is empty or too big, when its content is not one of
the types allowed (the content decides, not the name or the browser's claimed
type), when its name's extension says another type than its content, or when
the virus scanner finds something. A scanner that cannot answer refuses the
file too (fail closed): nothing unscanned is stored.

The scanner is a seam (``VirusScanner``), chosen by the setting
``TONGBAN_VIRUS_SCANNER``:

- ``local`` (the default): ``LocalScanner``, which needs no service. It finds
  the EICAR test file, executables (Windows PE, ELF, Mach-O, scripts with a
  ``#!`` line), PDF active content (JavaScript, launch actions, embedded files)
  and Office macros. It has no signature database: a province runs ClamAV.
- ``clamd://host:port`` or ``clamd:///path/to/clamd.ctl``: ``ClamdScanner``,
  ClamAV's daemon over its INSTREAM protocol.
"""

from __future__ import annotations

import hashlib
import io
import socket
import struct
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from tongban.kernel.problems import InvalidInput, Problem

# Content types an applicant's material may have, with the extensions that name them.
PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
OFD = "application/ofd"  # GB/T 33190, China's fixed-layout document format (a zip with OFD.xml)
EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF: (".pdf",),
    JPEG: (".jpg", ".jpeg"),
    PNG: (".png",),
    OFD: (".ofd",),
}
DEFAULT_ALLOWED_TYPES = (PDF, JPEG, PNG, OFD)
# The most of an uploaded zip-based document that is read to look inside it.
_MAX_MEMBER_BYTES = 64 * 1024 * 1024
_CHUNK = 64 * 1024


class UploadRefused(InvalidInput):
    """An uploaded file is refused; ``reason`` says why (too_large, empty, type_not_allowed, …)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail, reason=reason)
        self.reason = reason


class ScannerUnavailable(Problem):
    status = 503
    slug = "scanner-unavailable"
    title = "The virus scanner cannot be reached"


@dataclass(frozen=True)
class ScanResult:
    """What a scanner found: ``clean``, or the name of what it found."""

    clean: bool
    finding: str = ""


class VirusScanner(Protocol):
    """Scan a file's bytes. Return a ScanResult; raise ScannerUnavailable when no answer can be had."""

    def scan(self, stream: IO[bytes]) -> ScanResult: ...


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check: its sniffed content type, size and SHA-256."""

    name: str
    content_type: str
    size: int
    sha256: str


def sniff_content_type(head: bytes, stream: IO[bytes] | None = None) -> str | None:
    """Return the content type the file's bytes say (one of EXTENSIONS' types), or None.

    ``head`` is the file's first bytes (at least 8); ``stream`` the whole file,
    needed to tell an OFD document from any other zip.
    """
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"PK\x03\x04") and stream is not None:
        try:
            stream.seek(0)
            with zipfile.ZipFile(stream) as archive:
                if "OFD.xml" in archive.namelist():
                    return OFD
        except (zipfile.BadZipFile, OSError):
            return None
    return None


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    stream.seek(0)
    while chunk := stream.read(_CHUNK):
        yield chunk


def check_upload(upload: IO[bytes], *, name: str, allowed: Collection[str] = DEFAULT_ALLOWED_TYPES,
                 max_bytes: int | None = None, scanner: VirusScanner | None = None) -> CheckedUpload:
    """Return what ``upload`` is once every check passed; raise UploadRefused saying why not.

    ``max_bytes`` defaults to the setting ``UPLOAD_MAX_BYTES``. Raise
    ScannerUnavailable when the scanner cannot answer (the file is not stored).
    """
    limit = max_bytes if max_bytes is not None else settings.UPLOAD_MAX_BYTES
    digest = hashlib.sha256()
    size = 0
    for chunk in _chunks(upload):
        size += len(chunk)
        if size > limit:
            raise UploadRefused("too_large", _("The file is larger than %(limit)s MB.")
                                % {"limit": round(limit / 1024 / 1024, 1)})
        digest.update(chunk)
    if size == 0:
        raise UploadRefused("empty", _("The file is empty."))
    upload.seek(0)
    content_type = sniff_content_type(upload.read(16), upload)
    if content_type is None or content_type not in allowed:
        kinds = ", ".join(ext.lstrip(".").upper() for kind in allowed for ext in EXTENSIONS.get(kind, ())[:1])
        raise UploadRefused("type_not_allowed", _("This kind of file cannot be accepted here. Upload %(kinds)s.")
                            % {"kinds": kinds})
    extension = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    if extension not in EXTENSIONS[content_type]:
        raise UploadRefused("type_mismatch", _("The file's name says %(extension)s but its content is %(kind)s.")
                            % {"extension": extension or _("no type"),
                               "kind": EXTENSIONS[content_type][0].lstrip(".").upper()})
    result = (scanner or get_scanner()).scan(upload)
    upload.seek(0)
    if not result.clean:
        raise UploadRefused("infected", _("The file was refused by the virus check (%(finding)s).")
                            % {"finding": result.finding})
    return CheckedUpload(name=name, content_type=content_type, size=size, sha256=digest.hexdigest())


# -- the local scanner ---------------------------------------------------------------------------

# The EICAR anti-virus test file (https://www.eicar.org): every scanner must find it.
_EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
_EXECUTABLE_HEADS = {
    b"MZ": "Executable.Windows.PE",
    b"\x7fELF": "Executable.ELF",
    b"\xcf\xfa\xed\xfe": "Executable.MachO",
    b"\xfe\xed\xfa\xcf": "Executable.MachO",
    b"#!": "Executable.Script",
}
# PDF dictionary entries that run something or carry files (PDF 32000-1 §12.6, §7.11.4).
_PDF_ACTIVE_KEYS = {
    "/JS": "PDF.ActiveContent.JavaScript",
    "/JavaScript": "PDF.ActiveContent.JavaScript",
    "/Launch": "PDF.ActiveContent.Launch",
    "/EmbeddedFile": "PDF.EmbeddedFile",
    "/EmbeddedFiles": "PDF.EmbeddedFile",
    "/RichMedia": "PDF.ActiveContent.RichMedia",
}
_PDF_ACTIVE_ACTIONS = {"/JavaScript": "PDF.ActiveContent.JavaScript", "/Launch": "PDF.ActiveContent.Launch"}


def _pdf_finding(stream: IO[bytes]) -> str:
    """Return what active content a PDF holds ("" for none), reading every object of every revision.

    Objects inside object streams are read decompressed, so names hidden there
    are found too; a file pyHanko cannot parse is refused as broken.
    """
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    stream.seek(0)
    try:
        reader = PdfFileReader(stream, strict=False)
        refs = {ref for revision in range(reader.total_revisions)
                for ref in reader.xrefs.explicit_refs_in_revision(revision)}
        for ref in refs:
            dictionary = reader.get_object(ref)  # type: ignore[no-untyped-call]  # a stream is a dictionary too
            if not isinstance(dictionary, generic.DictionaryObject):
                continue
            for key in dictionary:
                if key in _PDF_ACTIVE_KEYS:
                    return _PDF_ACTIVE_KEYS[key]
            action = dictionary.get("/S")
            if isinstance(action, generic.NameObject) and action in _PDF_ACTIVE_ACTIONS:
                return _PDF_ACTIVE_ACTIONS[action]
    except (PdfError, ValueError, KeyError, TypeError, OSError):
        return "PDF.Broken"
    return ""


class LocalScanner:
    """A scanner with no service and no signature database (see the module docstring for what it finds)."""

    def scan(self, stream: IO[bytes]) -> ScanResult:
        stream.seek(0)
        head = stream.read(8)
        for magic, finding in _EXECUTABLE_HEADS.items():
            if head.startswith(magic):
                return ScanResult(clean=False, finding=finding)
        carry = b""
        for chunk in _chunks(stream):
            window = carry + chunk  # the signature may straddle two chunks
            if _EICAR in window:
                return ScanResult(clean=False, finding="Eicar-Test-Signature")
            carry = window[-len(_EICAR):]
        if head.startswith(b"%PDF-"):
            finding = _pdf_finding(stream)
            return ScanResult(clean=not finding, finding=finding)
        if head.startswith(b"PK\x03\x04"):
            return self._scan_archive(stream)
        return ScanResult(clean=True)

    def _scan_archive(self, stream: IO[bytes]) -> ScanResult:
        stream.seek(0)
        try:
            with zipfile.ZipFile(stream) as archive:
                for member in archive.infolist():
                    lowered = member.filename.lower()
                    if lowered.endswith("vbaproject.bin"):
                        return ScanResult(clean=False, finding="Office.Macro")
                    if member.file_size > _MAX_MEMBER_BYTES:
                        return ScanResult(clean=False, finding="Archive.ExpandsTooFar")
                    with archive.open(member) as content:
                        inner = self.scan(io.BytesIO(content.read(_MAX_MEMBER_BYTES)))
                    if not inner.clean:
                        return ScanResult(clean=False, finding=f"{inner.finding} in {member.filename}")
        except (zipfile.BadZipFile, RuntimeError, OSError):
            return ScanResult(clean=False, finding="Archive.Broken")
        return ScanResult(clean=True)


# -- ClamAV ----------------------------------------------------------------------------------------


class ClamdScanner:
    """ClamAV's clamd over TCP or a Unix socket, with its INSTREAM command (clamd(8)).

    The file goes in chunks, each prefixed with its length (4 bytes, network
    order), ended by a zero-length chunk; clamd answers ``stream: OK`` or
    ``stream: <name> FOUND``.
    """

    def __init__(self, address: str | tuple[str, int], *, timeout: float = 30.0) -> None:
        self.address = address
        self.timeout = timeout

    def _connect(self) -> socket.socket:
        if isinstance(self.address, str):
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        connection.settimeout(self.timeout)
        connection.connect(self.address)
        return connection

    def scan(self, stream: IO[bytes]) -> ScanResult:
        try:
            with self._connect() as connection:
                connection.sendall(b"zINSTREAM\0")
                for chunk in _chunks(stream):
                    connection.sendall(struct.pack("!L", len(chunk)) + chunk)
                connection.sendall(struct.pack("!L", 0))
                answer = b""
                while not answer.endswith(b"\0"):
                    received = connection.recv(4096)
                    if not received:
                        break
                    answer += received
        except OSError as error:
            raise ScannerUnavailable(_("The virus scanner cannot be reached; try again later.")) from error
        text = answer.rstrip(b"\0").decode("utf-8", "replace").strip()
        if text.endswith(" FOUND"):
            return ScanResult(clean=False, finding=text.removeprefix("stream:").removesuffix(" FOUND").strip())
        if text.endswith(" OK"):
            return ScanResult(clean=True)
        # "INSTREAM size limit exceeded. ERROR", or anything unexpected: no verdict.
        raise ScannerUnavailable(_("The virus scanner could not check the file; try again later."))


def scanner_from_url(url: str) -> VirusScanner:
    """Return the scanner a ``TONGBAN_VIRUS_SCANNER`` value names; raise ValueError for an unknown one."""
    if url in ("", "local"):
        return LocalScanner()
    parts = urlsplit(url)
    if parts.scheme == "clamd":
        if parts.hostname:
            return ClamdScanner((parts.hostname, parts.port or 3310))
        if parts.path:
            return ClamdScanner(parts.path)
    raise ValueError(f"Unknown virus scanner {url!r}: use 'local', clamd://host:port or clamd:///socket/path.")


def get_scanner() -> VirusScanner:
    """Return the scanner the settings choose (``VIRUS_SCANNER``)."""
    return scanner_from_url(getattr(settings, "VIRUS_SCANNER", "local"))
