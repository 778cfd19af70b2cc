-- One database per service (each service owns its data), created on the first start.
CREATE DATABASE project_svc;
CREATE DATABASE task_svc;
CREATE DATABASE storage_sync;
CREATE DATABASE export_svc;
CREATE DATABASE ml_gateway;
