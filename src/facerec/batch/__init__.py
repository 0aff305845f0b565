"""Work over many photos at once: aligning a dataset (align_dataset.py) and embedding a collection
into Parquet on a local pool or Ray Data (embed_photos.py, faces_table.py)."""
