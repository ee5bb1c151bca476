"""CME: the database side of the credit engine, along the claim path (docs/architecture.md,
"CME"). Import the module you need; this package re-exports nothing.

- `terms`: the words of the rules (attestation, reasons, learner-ID messages) and refusals;
- `learner`: one learner at one event, loaded once per request (`LearnerCase`);
- `case`: the engine's `CreditCase` from the database and the learner's computed credit;
- `designation`: what an event may designate (attainable credit) and designating it;
- `explain`: how credit was computed, in words;
- `evaluations`: the event's evaluation form and the learner's answers;
- `offers`: what a learner may claim, one `CreditOffer` type for live and enduring credit;
- `enduring`: enduring material (a session's recording released for credit);
- `claims`: the one claim workflow (live and enduring), additions, review, corrections;
- `records`: the claim's current credit and the audit trail;
- `printed`: what certificates print (statements, `certificate_data`);
- `site`: the public site address (`MEDVENUE_SITE_URL`) and verification URLs;
- `certificates`: queueing (tasks sent by name, `services.enqueue`), rendering, issuing,
  revoking, files;
- `mail`: the "certificate ready" e-mail;
- `credentials`: the Open Badges 3.0 verifiable credential of each issued version;
- `verification`: the public verification of a code;
- `transcript`: a learner's approved credits across events;
- `reports`: PARS learner files, the audit pack, attendance and evaluation summaries.
"""
