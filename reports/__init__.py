"""Reports: campaign, agent, SMS, survey and compliance reports with CSV/XLSX export."""
