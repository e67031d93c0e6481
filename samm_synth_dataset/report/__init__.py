"""The quality report (``samm-synth report``): ``report`` assembles the numbered sections — AU agreement, flow and
stability (``sections``), identity (``identity.section``, figures in ``identity.figures``) and spotting utility (``spotting.section``) — from one
``ReportContext`` (``context``) and writes ``quality/report.{md,html,json}`` through the stage engine;
``report_settings`` holds its settings.
"""
