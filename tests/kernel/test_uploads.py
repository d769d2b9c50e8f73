"""An applicant's upload is accepted only when its content is an allowed type named by its
extension, within the size limit, and the virus scanner calls it clean; a scanner that cannot
answer refuses it (fail closed). ClamAV is spoken to over its real INSTREAM protocol."""

from __future__ import annotations

import io
import socket
import struct
import threading
import zipfile

import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from tongban.kernel.uploads import (
    JPEG,
    OFD,
    PDF,
    PNG,
    ClamdScanner,
    LocalScanner,
    ScannerUnavailable,
    UploadRefused,
    check_upload,
    scanner_from_url,
)

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def pdf_bytes(*, javascript: str | None = None, attachment: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Household register copy")
    page.showPage()
    page.save()
    data = buffer.getvalue()
    if javascript is not None:
        data = _with_open_action(data, javascript)
    if attachment is not None:
        data = _with_embedded_file(data, attachment)
    return data


def _with_open_action(data: bytes, script: str) -> bytes:
    """Add ``/OpenAction << /S /JavaScript /JS (script) >>`` to the catalog, as a hostile file would."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    action = generic.DictionaryObject({generic.NameObject("/S"): generic.NameObject("/JavaScript"),
                                       generic.NameObject("/JS"): generic.TextStringObject(script)})
    writer.root[generic.NameObject("/OpenAction")] = writer.add_object(action)
    writer.update_root()
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _with_embedded_file(data: bytes, attachment: bytes) -> bytes:
    from pyhanko.pdf_utils.embed import EmbeddedFileObject, FileSpec, embed_file
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    embed_file(writer, FileSpec(file_spec_string="run.exe", embedded_data=EmbeddedFileObject.from_file_data(
        writer, data=attachment)))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def image_bytes(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format=kind)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def check(data: bytes, name: str, **options):
    return check_upload(io.BytesIO(data), name=name, scanner=options.pop("scanner", LocalScanner()), **options)


@pytest.mark.parametrize(("data", "name", "kind"), [
    (pdf_bytes(), "户口簿.pdf", PDF),
    (image_bytes("JPEG"), "photo.JPG", JPEG),
    (image_bytes("PNG"), "scan.png", PNG),
    (zip_bytes({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<ofd:Document/>"}), "licence.ofd", OFD),
])
def test_allowed_files_are_accepted_with_their_sniffed_type_size_and_digest(data, name, kind):
    import hashlib

    checked = check(data, name, max_bytes=1024 * 1024)
    assert (checked.content_type, checked.size, checked.sha256) == (kind, len(data),
                                                                    hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize(("data", "name", "reason"), [
    (b"", "empty.pdf", "empty"),
    (b"%PDF-1.7\n" + b"0" * 8192, "big.pdf", "too_large"),
    (b"plain text, not a document", "notes.pdf", "type_not_allowed"),
    (image_bytes("GIF"), "anim.gif", "type_not_allowed"),
    (zip_bytes({"word/document.xml": b"<w/>"}), "letter.docx", "type_not_allowed"),
    (image_bytes("PNG"), "scan.pdf", "type_mismatch"),
    (pdf_bytes(), "scan", "type_mismatch"),
])
def test_files_that_are_not_what_is_allowed_are_refused_with_a_reason(data, name, reason):
    with pytest.raises(UploadRefused) as refused:
        check(data, name, max_bytes=4096)
    assert refused.value.reason == reason
    assert refused.value.extensions["reason"] == reason
    assert refused.value.status == 422


def test_only_the_types_allowed_for_a_material_are_accepted():
    with pytest.raises(UploadRefused) as refused:
        check(image_bytes("PNG"), "scan.png", allowed=[PDF])
    assert refused.value.reason == "type_not_allowed"
    assert "PDF" in refused.value.detail


@pytest.mark.parametrize(("data", "name", "finding"), [
    (b"%PDF-1.4\n" + EICAR, "eicar.pdf", "Eicar-Test-Signature"),
    (pdf_bytes(javascript="app.alert(1)"), "form.pdf", "PDF.ActiveContent.JavaScript"),
    (pdf_bytes(attachment=b"MZ\x90\x00 payload"), "bundle.pdf", "PDF.EmbeddedFile"),
    (zip_bytes({"OFD.xml": b"<ofd:OFD/>", "Doc_0/x.bin": b"MZ\x90\x00"}), "doc.ofd",
     "Executable.Windows.PE in Doc_0/x.bin"),
    (zip_bytes({"OFD.xml": b"<ofd:OFD/>", "Doc_0/res.txt": EICAR}), "doc.ofd",
     "Eicar-Test-Signature in Doc_0/res.txt"),
])
def test_the_local_scanner_refuses_test_viruses_executables_and_active_content(data, name, finding):
    with pytest.raises(UploadRefused) as refused:
        check(data, name)
    assert refused.value.reason == "infected"
    assert finding in refused.value.detail


def test_the_local_scanner_finds_what_is_split_across_chunks_and_executables_by_their_head():
    scanner = LocalScanner()
    straddling = b"A" * (64 * 1024 - 10) + EICAR
    assert scanner.scan(io.BytesIO(straddling)).finding == "Eicar-Test-Signature"
    assert scanner.scan(io.BytesIO(b"\x7fELF\x02\x01\x01")).finding == "Executable.ELF"
    assert scanner.scan(io.BytesIO(zip_bytes({"word/vbaProject.bin": b"x"}))).finding == "Office.Macro"
    assert scanner.scan(io.BytesIO(pdf_bytes())).clean


# -- ClamAV's daemon over INSTREAM ---------------------------------------------------------------


class _Clamd:
    """A local server speaking clamd's INSTREAM protocol, answering from a rule over the received bytes."""

    def __init__(self, verdict) -> None:
        self.verdict = verdict
        self.received: list[bytes] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = self.server.getsockname()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read(self, connection: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _serve(self) -> None:
        with self.server:
            connection, _ = self.server.accept()
            with connection:
                command = self._read(connection, len(b"zINSTREAM\0"))
                assert command == b"zINSTREAM\0"
                content = b""
                while size := struct.unpack("!L", self._read(connection, 4))[0]:
                    content += self._read(connection, size)
                self.received.append(content)
                connection.sendall(self.verdict(content) + b"\0")


def test_clamd_is_sent_the_whole_file_in_chunks_and_its_verdicts_are_read():
    data = pdf_bytes() + b"%" + b"x" * 200_000  # several chunks
    clean = _Clamd(lambda content: b"stream: OK")
    assert ClamdScanner(clean.address).scan(io.BytesIO(data)).clean
    clean.thread.join(5)
    assert clean.received == [data]

    infected = _Clamd(lambda content: b"stream: Win.Test.EICAR_HDB-1 FOUND")
    with pytest.raises(UploadRefused) as refused:
        check(pdf_bytes(), "scan.pdf", scanner=ClamdScanner(infected.address))
    assert refused.value.reason == "infected"
    assert "Win.Test.EICAR_HDB-1" in refused.value.detail


def test_a_scanner_that_cannot_answer_refuses_the_file():
    # given: nothing listens on the port, or clamd answers with an error
    with socket.create_server(("127.0.0.1", 0)) as probe:
        address = probe.getsockname()
    erring = _Clamd(lambda content: b"INSTREAM size limit exceeded. ERROR")
    for scanner in (ClamdScanner(address, timeout=2), ClamdScanner(erring.address)):
        with pytest.raises(ScannerUnavailable) as unavailable:
            check(pdf_bytes(), "scan.pdf", scanner=scanner)
        assert unavailable.value.status == 503


def test_the_scanner_is_chosen_by_its_setting(settings):
    assert isinstance(scanner_from_url("local"), LocalScanner)
    assert scanner_from_url("clamd://127.0.0.1:3310").address == ("127.0.0.1", 3310)
    assert scanner_from_url("clamd:///run/clamav/clamd.ctl").address == "/run/clamav/clamd.ctl"
    with pytest.raises(ValueError, match="Unknown virus scanner"):
        scanner_from_url("http://scanner")
    # and check_upload uses the configured one when given none
    settings.VIRUS_SCANNER = "local"
    with pytest.raises(UploadRefused):
        check_upload(io.BytesIO(b"%PDF-1.4\n" + EICAR), name="x.pdf")
