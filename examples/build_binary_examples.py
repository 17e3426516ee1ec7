"""Placeholder: writes the sample corpus's .pdf and .docx (filled in with the examples corpus)."""
