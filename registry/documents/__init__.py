"""Official documents rendered to PDF by WeasyPrint: the notice list and the certificate."""
