"""The one way motcua turns HTML into PDF (slips, ledgers, reports).

WeasyPrint's default fetcher follows http(s) and file: anywhere and embeds `<link rel="attachment">` files
into the PDF: a name carrying such a link once put the instance's secret key into a report. Here a PDF may
load only `data:` URLs and files inside the app's own asset folders (the slips folder with its fonts and
stylesheet, web/static), and never carries attachments."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from engine.resources import package_path, shipped

# Folders whose files a PDF may load; a province's own slips folder (MOTCUA_SLIPS_PATH) is added by the caller.
ASSET_DIRS = (shipped("slips"), package_path("web", "static"))


class RefusedURL(ValueError):
    """A URL a PDF may not load; WeasyPrint logs it and leaves the resource out."""


def allowed_file(url: str, roots: Iterable[Path]) -> Path | None:
    """The local file a `file:` URL names, when it lies inside one of `roots` (after resolving `..` and links)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(unquote(parts.path)).resolve()
    for root in roots:
        base = root.resolve()
        if path.is_file() and path.is_relative_to(base):
            return path
    return None


def _fetcher(roots: tuple[Path, ...]):  # noqa: ANN202 — a weasyprint.urls.URLFetcher subclass
    from weasyprint.urls import URLFetcher

    class AssetsOnly(URLFetcher):
        def fetch(self, url: str, headers: dict | None = None):  # noqa: ANN202
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data" or (scheme == "file" and allowed_file(url, roots) is not None):
                return super().fetch(url, headers)
            raise RefusedURL(f"PDF may not load {url[:200]}")

    return AssetsOnly(allowed_protocols={"data", "file"}, allow_redirects=False, timeout=5)


def render_pdf(html: str, base_url: Path | None = None, extra_dirs: Iterable[Path] = (),
               sign_as: str | None = None) -> bytes:
    """PDF bytes of `html`. Relative URLs resolve against the folder `base_url` (default web/static), and
    only data: URLs and files in the asset folders (plus `extra_dirs`) are loaded. A PDF an agency issues
    (`sign_as`: its agency code) leaves here signed by that agency (engine.signing)."""
    from weasyprint import HTML

    roots = (*ASSET_DIRS, *(Path(d) for d in extra_dirs))
    base = (base_url or package_path("web", "static")).resolve().as_uri().rstrip("/") + "/"
    document = HTML(string=html, base_url=base, url_fetcher=_fetcher(roots)).render()
    # No embedded files, whatever the markup asks for: <link rel=attachment> and <a rel=attachment>.
    document.metadata.attachments = []
    for page in document.pages:
        page.links[:] = [link for link in page.links if link[0] != "attachment"]
    pdf = document.write_pdf()
    if sign_as:
        from engine import signing

        pdf = signing.sign(pdf, sign_as)
    return pdf



def merge(parts: Iterable[bytes]) -> bytes:
    """One PDF of several rendered ones, in order (bulk printing of slips). pypdf copies pages only: no
    JavaScript, attachments or outlines of the parts are carried over."""
    from io import BytesIO

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for part in parts:
        for page in PdfReader(BytesIO(part)).pages:
            writer.add_page(page)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
