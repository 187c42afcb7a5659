"""The patient's answer: the nearest labelled structures, the AJA device, what the forfait
covers."""
