DROP TABLE login_guards;
