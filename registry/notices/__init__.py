"""Public notice: objections lodged in the notice period, certificates and their verification."""
