"""Photo collections: finding the photos, naming or grouping their faces, and what is made of
that (results files, sorted folders, the page, the report)."""
