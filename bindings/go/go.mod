module github.com/lightfunnels-auth/lightfunnels-auth/bindings/go

go 1.19
