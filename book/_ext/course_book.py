"""Sphinx tweaks for the course book.

sphinx-thebe 0.3 registers its inline configuration script once per read of the documents, so
a rebuild declares ``const THEBE_JS_URL`` twice and the browser reports a JavaScript error on
every page. Each page keeps only the first copy of every script.
"""


def _unique_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        # The same inline script is registered once with filename None and once with "".
        filename = getattr(script, "filename", script) or ""
        key = (str(filename), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
