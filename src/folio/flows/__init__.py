"""The daily data flow (L4-13), Folio's side: the Prefect flow itself lives in its own environment, flows/."""
