module github.com/orchceph/orch/images/testapp

go 1.22
