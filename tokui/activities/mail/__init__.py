"""E-mail in and out: templates and sending (outbound), IMAP fetching (inbound), parsing and
matching messages to contacts and accounts.

Modules: ``parsing`` (bytes → ParsedMail, never raises), ``matching`` (addresses and thread
headers → contacts and account), ``templates`` (EmailTemplate services and placeholder
rendering), ``outbound`` (send to a contact), ``inbound`` (``tokui mail fetch``), ``tasks``
(the periodic fetch), ``recording`` (the interaction write shared by both directions).
"""
