module example.com/buildpack-app

go 1.22
